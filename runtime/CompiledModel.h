//===- CompiledModel.h - the generated code as a Backend --------*- C++ -*-===//
#ifndef QWEN3C_RUNTIME_COMPILEDMODEL_H
#define QWEN3C_RUNTIME_COMPILEDMODEL_H

#include "runtime/Generate.h"
#include "runtime/ModelAbi.h"

#include <memory>
#include <string>
#include <initializer_list>
#include <vector>

namespace qwen3c_rt {

// Owns the context of one compiled model: one arena for activations (its
// size computed by the compiler), the weight blob, and the KV caches up to
// the compiled maximum context of `sequences` independent sequences (the
// server's slots; the run loop uses sequence 0). Calls run one at a time:
// they share the arena. No model math here: forward() only calls the
// generated prefill/decode entry points.
class CompiledModel : public Backend {
public:
  // Weights: embedded in the executable, or read from a sidecar file
  // (weightsPath, by default the executable's path + ".weights").
  explicit CompiledModel(const std::string &weightsPath, int64_t sequences = 1);
  ~CompiledModel() override;

  const char *name() const override { return "compiled"; }
  int64_t vocab() const override { return info(qwen3c_abi::kVocab); }
  int64_t maxContext() const override { return info(qwen3c_abi::kContext); }
  std::vector<int32_t> eosIds() const override;
  std::vector<float> forward(const std::vector<int32_t> &tokens, int64_t pos, bool allRows) override {
    return forwardSequence(0, tokens, pos, allRows);
  }
  // forward() on sequence `seq`'s KV cache.
  std::vector<float> forwardSequence(int64_t seq, const std::vector<int32_t> &tokens, int64_t pos, bool allRows);
  int64_t sequences() const { return numSequences; }
  // Rows of @decode_batch (0: the model has none).
  static int64_t decodeBatchRows() { return info(qwen3c_abi::kDecodeBatch); }
  // One @decode_batch call: the next token of sequences first .. first+N-1
  // (N = decodeBatchRows(), `first` a multiple of N) at their positions;
  // returns N rows of logits. A row whose sequence has no token this step
  // still writes its K/V at the position given: one that the sequence
  // overwrites before reading (its next position, or 0 when unused).
  const float *forwardBatch(int64_t first, const std::vector<int32_t> &tokens, const std::vector<int64_t> &positions);

  static int64_t info(int field) { return qwen3c_model_info[field]; }

private:
  static const qwen3c_abi::PromptEntry &promptEntry(int64_t rows);

  // A CUDA build (qwen3c_device): weights, arena, caches, the tokens in and
  // the logits out are device memory; `rows` is the host copy of the logits.
  bool onDevice = false;
  void *deviceTokens = nullptr, *deviceLogits = nullptr;
  void openDevice();
  // The entry's index arguments, where its kernels read them (the arena's
  // start, q3-lower-to-gpu): written before each call.
  void writeIndices(std::initializer_list<int64_t> values);
  // Sequence 0's @decode as a CUDA graph: the first call runs as it is, the
  // second is captured, later ones replay it (QWEN3C_CUDA_GRAPH=0: never).
  bool useGraphs = false;
  void *decodeGraph = nullptr;
  int64_t decodeCalls = 0;

  const uint8_t *weights = nullptr;
  bool ownsWeights = false;
  void *arena = nullptr;
  // The sequences' K (and V) caches, one after another, as @decode_batch
  // reads them: sequences rounded up to whole batches.
  void *kCaches = nullptr, *vCaches = nullptr;
  int64_t numSequences = 0, allocatedSequences = 0;
  size_t cacheBytes = 0; // of one sequence's K (or V) cache
  void *kCache(int64_t seq) const { return static_cast<uint8_t *>(kCaches) + size_t(seq) * cacheBytes; }
  void *vCache(int64_t seq) const { return static_cast<uint8_t *>(vCaches) + size_t(seq) * cacheBytes; }
  std::vector<float> rows;
  ChunkShapes shapes; // the compiled entry points' row counts, read once
};

class Tokenizer;
// The tokenizer compiled into this executable, or null when it has none.
std::unique_ptr<Tokenizer> embeddedTokenizer();

// The compiled KV cache: its element type's name and the bytes one position
// takes over all layers, K and V (what a decode step reads per position).
const char *cacheDTypeName();
int64_t kvBytesPerPosition();

} // namespace qwen3c_rt

#endif
