//===- Generate.cpp ---------------------------------------------------------===//
#include "runtime/Generate.h"
#include "runtime/AtomicOutput.h"
#include "runtime/ChatFormat.h"
#include "runtime/Tokenizer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <unistd.h>

namespace qwen3c_rt {
namespace {

template <typename... Parts> [[noreturn]] void fail(const Parts &...parts) { failRun(parts...); }

// Prints decoded bytes as they come (Utf8Stream holds back partial characters).
class TextStream {
public:
  void add(const std::string &bytes) { emit(stream.add(bytes)); }
  void finish() { emit(stream.finish()); }

private:
  static void emit(const std::string &t) {
    std::fwrite(t.data(), 1, t.size(), stdout);
    std::fflush(stdout);
  }
  Utf8Stream stream;
};

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string jsonList(const std::vector<int32_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

int64_t toInt(const std::string &flag, const std::string &v) { return parseIntFlag(flag, v); }

double toDouble(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(x)) fail(flag, ": '", v, "' is not a number");
  return x;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open: ", std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

const char *kRunFlagsHelp =
    "prompt:\n"
    "  -p, --prompt TEXT      the user's message (rendered with the chat template)\n"
    "  -f, --file FILE        read the prompt from a file\n"
    "  --system TEXT          a system message\n"
    "  --no-think             disable thinking (the template's empty <think> block)\n"
    "  --raw                  no chat template: the prompt text as is\n"
    "  --tokens ID,ID,...     the prompt as token ids (prints ids, not text)\n"
    "  --tokens-file FILE     the same ids from a file (commas or white space between them)\n"
    "  --chat                 interactive multi-turn chat on stdin (KV cache kept)\n"
    "  --server               serve the OpenAI HTTP API instead (see --server --help)\n"
    "generation:\n"
    "  -n, --n-predict N      tokens to generate (default: until EOS or the context is full;\n"
    "                         0: evaluate the prompt only)\n"
    "  -c, --ctx-size N       context (at most the compiled maximum)\n"
    "  --temp T               temperature (0: greedy; default 0.6)\n"
    "  --top-k K              (default 20, 0: off)\n"
    "  --top-p P              (default 0.95, 1: off)\n"
    "  --min-p P              (default 0, off)\n"
    "  --repeat-penalty R     (default 1, off) over the last 64 tokens\n"
    "  --seed S               random seed (default: random); same seed, same tokens\n"
    "  --stop TEXT            stop when the output contains TEXT (repeatable)\n"
    "  --ignore-eos           do not stop at end-of-sequence tokens (benchmarks)\n"
    "output:\n"
    "  --json                 one JSON object: tokens, text, timings\n"
    "  --dump-logits FILE     f32 logits, one row of vocab_size per evaluated position\n"
    "  --dump-last-logits FILE  the same for the prompt's last position and each generated\n"
    "                         token only (the prompt runs as without a dump)\n"
    "  --profile              after the run, each kernel's calls and time (a model built with\n"
    "                         qwen3c build --profile-kernels)\n"
    "  --profile-json FILE    the same as JSON\n"
    "  -t, --threads N        threads (default: the CPUs this process may use)\n"
    "  -h, --help             this text\n";

RunOptions parseRunFlags(const std::vector<std::string> &args, RunOptions o, const char *program) {
  bool haveSeed = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&]() -> const std::string & {
      if (i + 1 >= args.size()) fail(a, ": needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf("usage: %s [options]\n%s", program, kRunFlagsHelp);
      std::exit(0);
    } else if (a == "--tokens") {
      o.tokens = value();
      o.haveTokens = true;
    } else if (a == "--tokens-file") {
      // The same ids from a file (long prompts), commas or white space between them.
      const std::string &path = value();
      std::string ids = readFile(path);
      std::replace_if(ids.begin(), ids.end(), [](char ch) { return std::isspace((unsigned char)ch); }, ',');
      size_t first = ids.find_first_not_of(','), last = ids.find_last_not_of(',');
      if (first == std::string::npos) fail("--tokens-file: ", path, ": no token ids");
      o.tokens.clear();
      for (size_t k = first; k <= last; ++k) // runs of separators become one comma
        if (ids[k] != ',' || o.tokens.back() != ',') o.tokens += ids[k];
      o.haveTokens = true;
    } else if (a == "-p" || a == "--prompt") {
      o.prompt = value();
      o.promptSource = "-p";
      o.havePrompt = true;
    } else if (a == "-f" || a == "--file") {
      o.promptSource = value();
      o.prompt = readFile(o.promptSource);
      o.havePrompt = true;
    } else if (a == "--system") {
      o.system = value();
    } else if (a == "--no-think") {
      o.noThink = true;
    } else if (a == "--raw") {
      o.raw = true;
    } else if (a == "--chat") {
      o.chat = true;
    } else if (a == "-n" || a == "--n-predict") {
      o.n = toInt("-n", value());
      if (o.n < 0) fail("-n: must be 0 or more, got ", std::to_string(o.n));
    } else if (a == "-c" || a == "--ctx-size") {
      o.context = toInt("-c", value());
      if (o.context < 1) fail("-c: must be at least 1, got ", std::to_string(o.context));
    } else if (a == "--temp") {
      o.sampling.temp = toDouble("--temp", value());
      if (o.sampling.temp < 0) fail("--temp: must be 0 or more");
    } else if (a == "--top-k") {
      o.sampling.topK = toInt("--top-k", value());
      if (o.sampling.topK < 0) fail("--top-k: must be 0 or more");
    } else if (a == "--top-p") {
      o.sampling.topP = toDouble("--top-p", value());
      if (o.sampling.topP <= 0 || o.sampling.topP > 1) fail("--top-p: must be in (0, 1]");
    } else if (a == "--min-p") {
      o.sampling.minP = toDouble("--min-p", value());
      if (o.sampling.minP < 0 || o.sampling.minP > 1) fail("--min-p: must be in [0, 1]");
    } else if (a == "--repeat-penalty") {
      o.sampling.repeatPenalty = toDouble("--repeat-penalty", value());
      if (o.sampling.repeatPenalty <= 0) fail("--repeat-penalty: must be positive");
    } else if (a == "--seed") {
      o.sampling.seed = uint64_t(toInt("--seed", value()));
      haveSeed = true;
    } else if (a == "--stop") {
      o.stops.push_back(value());
      if (o.stops.back().empty()) fail("--stop: must not be empty");
    } else if (a == "--ignore-eos") {
      o.ignoreEos = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--dump-logits") {
      o.dumpLogits = value();
      o.dumpLastOnly = false;
    } else if (a == "--dump-last-logits") {
      o.dumpLogits = value();
      o.dumpLastOnly = true;
    } else if (a == "-t" || a == "--threads") {
      o.threads = toInt("-t", value());
      if (o.threads < 1) fail("-t: must be at least 1, got ", std::to_string(o.threads));
    } else if (a == "--weights") {
      o.weights = value();
    } else {
      fail("unknown option '", a, "' (see --help)");
    }
  }
  if (!haveSeed) o.sampling.seed = std::random_device{}();
  int sources = int(o.haveTokens) + int(o.havePrompt);
  if (sources > 1) fail("give only one of --tokens and -p/-f");
  if (sources == 0 && !o.chat) fail("no prompt: give -p TEXT, -f FILE, --tokens IDS or --chat (see --help)");
  if (o.chat && (o.json || o.haveTokens || o.raw || !o.dumpLogits.empty()))
    fail("--chat cannot be combined with --json, --tokens, --raw, --dump-logits or --dump-last-logits");
  return o;
}

int64_t parseIntFlag(const std::string &flag, const std::string &v) {
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno == ERANGE) fail(flag, ": '", v, "' is not an integer");
  return x;
}

std::vector<int32_t> endOfTurnIds(const Backend &backend, const Tokenizer *tokenizer) {
  std::vector<int32_t> ids = backend.eosIds();
  if (tokenizer)
    for (const char *name : {"<|im_end|>", "<|endoftext|>"})
      if (int32_t id = tokenizer->addedTokenId(name); id >= 0 && id < backend.vocab()) ids.push_back(id);
  return ids;
}

std::vector<int32_t> parseTokens(const std::string &s, int64_t vocab) {
  std::vector<int32_t> out;
  size_t start = 0;
  if (s.empty()) fail("--tokens: the prompt is empty");
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    char *stop = nullptr;
    errno = 0;
    long long v = item.empty() ? 0 : std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || errno == ERANGE) fail("--tokens: '", item, "' is not a token id");
    if (v < 0 || v >= vocab)
      fail("--tokens: token id ", std::to_string(v), " is out of range (vocabulary of ", std::to_string(vocab), ")");
    out.push_back(int32_t(v));
    start = end + 1;
  }
  return out;
}

std::vector<int64_t> planPromptChunks(int64_t n, const std::vector<int64_t> &sizes) {
  // cost[r]: the cheapest way to run r tokens; first[r]: its first chunk.
  std::vector<int64_t> cost(size_t(n + 1), 0), first(size_t(n + 1), 0);
  for (int64_t r = 1; r <= n; ++r) {
    cost[size_t(r)] = std::numeric_limits<int64_t>::max();
    for (auto it = sizes.rbegin(); it != sizes.rend(); ++it) { // largest first among equals
      int64_t c = *it + kCallRows + cost[size_t(std::max<int64_t>(0, r - *it))];
      if (c < cost[size_t(r)]) cost[size_t(r)] = c, first[size_t(r)] = *it;
    }
  }
  std::vector<int64_t> plan;
  for (int64_t r = n; r > 0; r -= first[size_t(r)]) plan.push_back(first[size_t(r)]);
  std::sort(plan.begin(), plan.end(), std::greater<int64_t>());
  return plan;
}

std::vector<float> evaluateInChunks(const std::vector<int32_t> &tokens, int64_t pos, const ChunkShapes &shapes,
                                    int64_t vocab, int64_t context, bool allRows, const ChunkCall &call) {
  const int64_t n = int64_t(tokens.size());
  if (pos + n > context)
    fail("positions ", std::to_string(pos), "..", std::to_string(pos + n - 1), " exceed the context of ",
         std::to_string(context));
  std::vector<float> logits(size_t((allRows ? n : std::min<int64_t>(n, 1)) * vocab));
  std::vector<int32_t> ids;
  // Runs tokens[start .. end) in one call of T rows (the rest padding);
  // returns how many it ran. Without allRows, a call that needs logits
  // gives the last token's row: a decode's one row, or with `lastRow` the
  // chunk's last valid row.
  auto run = [&](int64_t start, int64_t end, int64_t T, bool decode, bool needLogits, bool lastRow = false) {
    int64_t valid = std::min(T, end - start);
    ids.assign(size_t(T), 0);
    std::copy_n(tokens.begin() + start, valid, ids.begin());
    const float *rows = call(ids, pos + start, decode, needLogits, lastRow ? valid - 1 : -1);
    if (allRows) std::copy_n(rows, valid * vocab, logits.begin() + start * vocab);
    else if (needLogits) std::copy_n(rows, vocab, logits.begin());
    return valid;
  };
  if (allRows) {
    for (int64_t start = 0; start < n;) {
      bool decode = n - start == 1;
      start += run(start, n, decode ? 1 : shapes.logitsChunk, decode, true);
    }
    return logits;
  }
  if (n == 0) return logits;
  int64_t start = 0;
  if (shapes.lastRowLogits && n > 1) {
    std::vector<int64_t> plan = planPromptChunks(n, shapes.promptChunks);
    for (size_t c = 0; c + 1 < plan.size(); ++c) start += run(start, n, plan[c], false, false);
    run(start, n, plan.back(), /*decode=*/false, /*needLogits=*/true, /*lastRow=*/true);
    return logits;
  }
  for (int64_t T : planPromptChunks(n - 1, shapes.promptChunks)) start += run(start, n - 1, T, false, false);
  run(n - 1, n, 1, /*decode=*/true, /*needLogits=*/true);
  return logits;
}

namespace {

struct Session {
  const RunOptions &o;
  Backend &backend;
  const Tokenizer *tok;
  int64_t context, V;
  Sampler sampler;
  std::vector<int32_t> eos;
  std::vector<int32_t> history; // everything in the KV cache
  std::unique_ptr<AtomicOutput> dump;

  Session(const RunOptions &o, Backend &b, const Tokenizer *t)
      : o(o), backend(b), tok(t), V(b.vocab()), sampler(o.sampling) {
    context = o.context ? o.context : b.maxContext();
    if (context > b.maxContext())
      fail("-c: ", std::to_string(context), " is outside 1..", std::to_string(b.maxContext()),
           " (the compiled maximum context)");
    if (!o.ignoreEos) eos = endOfTurnIds(b, t);
    if (!o.dumpLogits.empty()) dump = std::make_unique<AtomicOutput>(o.dumpLogits);
  }

  std::vector<float> eval(const std::vector<int32_t> &ids) {
    if (int64_t(history.size() + ids.size()) > context)
      fail("the conversation (", std::to_string(history.size() + ids.size()), " tokens) exceeds the context of ",
           std::to_string(context));
    std::vector<float> logits =
        backend.forward(ids, int64_t(history.size()), /*allRows=*/dump != nullptr && !o.dumpLastOnly);
    history.insert(history.end(), ids.begin(), ids.end());
    if (dump) dump->write(logits.data(), logits.size() * sizeof(float));
    return logits;
  }

  // Samples up to `limit` tokens after `last` logits; each kept token is
  // evaluated, so the cache (and any dump) covers it. Stops at EOS (not
  // evaluated, not returned) or a stop string.
  std::vector<int32_t> generate(std::vector<float> last, int64_t limit, bool printText, bool printIds,
                                bool *stoppedAtEos = nullptr) {
    std::vector<int32_t> out;
    std::string text;
    TextStream stream;
    if (stoppedAtEos) *stoppedAtEos = false;
    for (int64_t i = 0; i < limit; ++i) {
      int32_t next = sampler.sample(last.data() + last.size() - size_t(V), V, history);
      if (std::find(eos.begin(), eos.end(), next) != eos.end()) {
        if (stoppedAtEos) *stoppedAtEos = true;
        break;
      }
      out.push_back(next);
      if (printIds) {
        std::printf("%s%d", out.size() > 1 ? "," : "", next);
        std::fflush(stdout);
      }
      bool stop = false;
      if (tok && (printText || !o.stops.empty())) {
        const std::string &piece = tok->tokenDecoder().bytes(next);
        if (printText) stream.add(piece);
        text += piece;
        for (const auto &s : o.stops) stop |= text.find(s) != std::string::npos;
      }
      last = eval({next});
      if (stop) break;
    }
    if (printText) stream.finish();
    if (printIds && !out.empty()) std::printf("\n");
    return out;
  }
};

// Each turn renders the whole conversation with the chat template and
// evaluates what differs from the cache: the new user turn, and from the
// first token where the template renders earlier turns differently (Qwen3's
// drops the reasoning of answers before the last query).
void runChat(Session &s, const ChatFormat &chat) {
  if (!s.tok) fail("--chat needs a tokenizer");
  checkUtf8(s.o.system, "--system");
  if (s.o.havePrompt) checkUtf8(s.o.prompt, s.o.promptSource);
  std::vector<ChatMessage> conversation;
  if (!s.o.system.empty()) conversation.emplace_back("system", s.o.system);
  std::string line;
  bool useFirst = s.o.havePrompt;
  while (true) {
    if (useFirst) {
      line = s.o.prompt;
      useFirst = false;
    } else {
      std::fprintf(stderr, "\n> ");
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      try { // a bad line is refused; the conversation goes on
        checkUtf8(line, "input");
      } catch (const RunError &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        continue;
      }
    }
    conversation.emplace_back("user", line);
    std::vector<int32_t> ids =
        s.tok->encode(chat.render(conversation, nlohmann::ordered_json::array(), true, !s.o.noThink));
    size_t common = 0;
    while (common < ids.size() && common < s.history.size() && ids[common] == s.history[common]) ++common;
    if (common == ids.size()) --common; // the last token is evaluated again for its logits
    s.history.resize(common);
    std::vector<float> logits = s.eval(std::vector<int32_t>(ids.begin() + long(common), ids.end()));
    int64_t room = s.context - int64_t(s.history.size());
    int64_t limit = s.o.n >= 0 ? std::min(s.o.n, room) : room;
    std::vector<int32_t> reply = s.generate(std::move(logits), limit, true, false);
    std::printf("\n");
    conversation.emplace_back("assistant", s.tok->decode(reply));
    if (int64_t(s.history.size()) >= s.context) fail("the context of ", std::to_string(s.context), " is full");
  }
}

} // namespace

void generate(const RunOptions &o, Backend &backend, const Tokenizer *tok, const ChatFormat &chat) {
  Session s(o, backend, tok);
  if (o.chat) return runChat(s, chat);

  std::vector<int32_t> prompt;
  if (o.haveTokens) {
    prompt = parseTokens(o.tokens, s.V);
  } else {
    if (!tok) fail("this model has no tokenizer: give the prompt as --tokens");
    // Checked before templating, so the byte offset is the user's.
    checkUtf8(o.prompt, o.promptSource);
    checkUtf8(o.system, "--system");
    std::vector<ChatMessage> messages;
    if (!o.system.empty()) messages.emplace_back("system", o.system);
    messages.emplace_back("user", o.prompt);
    std::string text;
    try {
      text = o.raw ? o.prompt : chat.render(messages, nlohmann::ordered_json::array(), true, !o.noThink);
    } catch (const JinjaError &e) {
      fail("the chat template: ", e.what());
    }
    prompt = tok->encode(text);
    if (prompt.empty()) fail("the prompt is empty");
  }
  if (int64_t(prompt.size()) > s.context)
    fail("the prompt (", std::to_string(prompt.size()), " tokens) is longer than the context of ", std::to_string(s.context));
  if (o.n >= 0 && int64_t(prompt.size()) + o.n > s.context)
    fail("prompt of ", std::to_string(prompt.size()), " tokens plus -n ", std::to_string(o.n),
         " exceeds the context of ", std::to_string(s.context));
  int64_t limit = o.n >= 0 ? o.n : s.context - int64_t(prompt.size());

  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  std::vector<float> logits = s.eval(prompt);
  auto t1 = clock::now();
  bool textOut = !o.haveTokens && !o.json;
  std::vector<int32_t> generated = s.generate(std::move(logits), limit, textOut, o.haveTokens && !o.json);
  auto t2 = clock::now();
  if (textOut) std::printf("\n");
  if (s.dump) s.dump->commit();

  double promptS = std::chrono::duration<double>(t1 - t0).count();
  double genS = std::chrono::duration<double>(t2 - t1).count();
  double promptTps = promptS > 0 ? double(prompt.size()) / promptS : 0;
  double genTps = genS > 0 && !generated.empty() ? double(generated.size()) / genS : 0;
  if (o.json) {
    std::string text = tok ? ",\"text\":" + jsonString(tok->decode(generated)) : "";
    std::printf("{\"engine\":\"%s\",\"prompt_tokens\":%s,\"generated_tokens\":%s%s,"
                "\"timings\":{\"prompt_tokens_per_s\":%.3f,\"generation_tokens_per_s\":%.3f,"
                "\"prompt_s\":%.6f,\"generation_s\":%.6f}}\n",
                backend.name(), jsonList(prompt).c_str(), jsonList(generated).c_str(), text.c_str(),
                promptTps, genTps, promptS, genS);
  }
  std::fprintf(stderr, "prompt: %zu tokens, %.2f tokens/s; generation: %zu tokens, %.2f tokens/s\n",
               prompt.size(), promptTps, generated.size(), genTps);
}

} // namespace qwen3c_rt
