//===- Generate.h - the run loop shared by compiled models and run-eager -*- C++ -*-===//
//
// Flags, prompt (token ids, raw text or the chat template), sampling, EOS and
// stop strings, streaming output, logit dumps, the JSON report and the
// interactive chat: the same code drives a compiled model and the eager
// interpreter, so their outputs compare byte for byte.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_GENERATE_H
#define QWEN3C_RUNTIME_GENERATE_H

#include "runtime/Sampler.h"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace qwen3c_rt {

class Tokenizer;
class ChatFormat;

struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws a RunError of the parts (strings) joined.
template <typename... Parts> [[noreturn]] void failRun(const Parts &...parts) {
  std::string s;
  ((s += parts), ...);
  throw RunError(s);
}

struct RunOptions {
  std::string tokens;          // --tokens 1,2,3 (ids in, ids out)
  std::string prompt;          // -p, or the contents of -f
  std::string promptSource = "-p"; // for messages: "-p" or the -f path
  bool haveTokens = false, havePrompt = false;
  std::string system;          // --system
  bool noThink = false, raw = false, chat = false, ignoreEos = false;
  int64_t n = -1;              // -n; -1: until EOS or the context is full
  SamplerOptions sampling;
  std::vector<std::string> stops; // --stop (repeatable)
  std::string dumpLogits;
  bool dumpLastOnly = false;   // --dump-last-logits: one row per evaluation (the prompt at full speed)
  bool json = false;
  int64_t threads = 1;
  int64_t context = 0;         // -c; 0: the backend's maximum
  std::string weights;         // --weights (compiled models)
};

// Something that evaluates tokens at positions pos.. and returns logits,
// keeping its KV cache between calls: one row per token when `allRows`
// (--dump-logits), else only the last token's row (a 500-token prompt's
// rows are 300 MB of a 151936-word vocabulary).
class Backend {
public:
  virtual ~Backend() = default;
  virtual const char *name() const = 0;
  virtual int64_t vocab() const = 0;
  virtual int64_t maxContext() const = 0;
  virtual std::vector<int32_t> eosIds() const = 0;
  virtual std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos, bool allRows) = 0;
};

// Parses the run flags (argv[first..]); `defaults` carries the caller's
// defaults (threads). Prints --help and exits on -h. Throws RunError.
RunOptions parseRunFlags(const std::vector<std::string> &args, RunOptions defaults, const char *program);
extern const char *kRunFlagsHelp;

std::vector<int32_t> parseTokens(const std::string &s, int64_t vocab);

// A flag's integer value; "FLAG: 'V' is not an integer" otherwise.
int64_t parseIntFlag(const std::string &flag, const std::string &value);

// The ids that end a completion: the checkpoint's EOS ids, and both
// chat-turn ends the tokenizer has (an instruct model closes a turn with
// <|im_end|>, a base model with <|endoftext|>).
std::vector<int32_t> endOfTurnIds(const Backend &backend, const Tokenizer *tokenizer);

// A compiled graph's static shapes: @prefill (`logitsChunk` rows, logits of
// every row) and the logits-free prompt chunks (increasing; the first is
// logitsChunk, as @prefill_nologits), besides @decode's one row.
struct ChunkShapes {
  int64_t logitsChunk = 16;
  std::vector<int64_t> promptChunks{16};
  // Each prompt chunk also gives one row's logits (the `_last` entries): a
  // prompt's last chunk then ends it, with no @decode call for its last token.
  bool lastRowLogits = false;
};

// The chunks (sizes, in order) `n` tokens run in: the fewest padded rows
// plus kCallRows per call (a call streams all the weights once; on a 0.6B
// shape that costs about as much as 4 rows of arithmetic), largest first.
inline constexpr int64_t kCallRows = 4;
std::vector<int64_t> planPromptChunks(int64_t n, const std::vector<int64_t> &sizes);

// Evaluates `tokens` at positions pos.. on those shapes (padded chunks take
// id 0 in their tail). call(ids, position, decode, needLogits, row)
// evaluates ids.size() tokens and returns their rows of `vocab` logits, or
// with row >= 0 (a prompt chunk, lastRowLogits) that row's alone. With
// `allRows`, every token's row is returned: chunks of logitsChunk, a single
// remaining token by decode. Without, only the last token's row: with
// lastRowLogits all the tokens run in planPromptChunks' chunks, the last
// chunk giving its last valid row (no LM head over a chunk's rows for one
// row of logits, no decode call); else all but the last token, with
// needLogits = false (the call may skip the LM head and return nullptr),
// and the last one by decode. A one-token prompt is one decode call.
using ChunkCall = std::function<const float *(const std::vector<int32_t> &ids, int64_t position, bool decode,
                                              bool needLogits, int64_t row)>;
std::vector<float> evaluateInChunks(const std::vector<int32_t> &tokens, int64_t pos, const ChunkShapes &shapes,
                                    int64_t vocab, int64_t context, bool allRows, const ChunkCall &call);

// Validates the options against the backend, runs, prints. Throws RunError.
// `chat` renders -p and --chat conversations (the checkpoint's template).
void generate(const RunOptions &options, Backend &backend, const Tokenizer *tokenizer, const ChatFormat &chat);

} // namespace qwen3c_rt

#endif
