//===- CompiledModel.cpp ----------------------------------------------------===//
#include "runtime/CompiledModel.h"
#include "runtime/CudaDriver.h"
#include "runtime/Tokenizer.h"
#include "runtime/WeightsFile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qwen3c_rt {
using namespace qwen3c_abi;

namespace {

void *allocZeroed(int64_t bytes) {
  size_t n = (size_t(std::max<int64_t>(bytes, 64)) + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, n);
  if (!p) throw RunError("out of memory allocating " + std::to_string(n) + " bytes");
  std::memset(p, 0, n);
  return p;
}

template <int R> MemRef<R> view(void *data, const int64_t (&sizes)[R]) { return qwen3c_abi::contiguousView(data, sizes); }


uint8_t *allocHuge(size_t bytes) {
  constexpr size_t huge = size_t(2) << 20;
  size_t rounded = (std::max<size_t>(bytes, 1) + huge - 1) / huge * huge;
  void *p = std::aligned_alloc(huge, rounded);
  if (!p) throw RunError("out of memory allocating " + std::to_string(bytes) + " bytes of weights");
  madvise(p, rounded, MADV_HUGEPAGE);
  return static_cast<uint8_t *>(p);
}

std::string defaultSidecar() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw RunError("cannot find this executable's path: pass --weights FILE");
  return std::string(buf, size_t(n)) + ".weights";
}

// Reads a sidecar weight file straight into huge-page memory, checking that
// it is whole and belongs to this executable.
uint8_t *loadSidecar(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw RunError(path + ": cannot open the weight file: " + std::strerror(errno) +
                   " (this model was built with --weights sidecar; pass --weights FILE)");
  struct Closer { int fd; ~Closer() { ::close(fd); } } closer{fd};
  WeightsHeader h{};
  struct stat st;
  fstat(fd, &st);
  const uint64_t want = uint64_t(CompiledModel::info(kWeightBytes));
  if (::pread(fd, &h, sizeof h, 0) != ssize_t(sizeof h) || std::memcmp(h.magic, kWeightsMagic, 8) != 0)
    throw RunError(path + ": not a qwen3c weight file");
  if (h.modelId != uint64_t(CompiledModel::info(kModelId)) ||
      h.checksum != uint64_t(CompiledModel::info(kWeightsChecksum)) || h.blobBytes != want)
    throw RunError(path + ": the weights of another model or build (model id " + std::to_string(h.modelId) +
                   ", this executable expects " + std::to_string(uint64_t(CompiledModel::info(kModelId))) + ")");
  if (uint64_t(st.st_size) < kWeightsHeaderBytes + want)
    throw RunError(path + ": truncated: " + std::to_string(st.st_size) + " bytes, expected " +
                   std::to_string(kWeightsHeaderBytes + want));
  uint8_t *buf = allocHuge(size_t(want));
  Checksum sum;
  bool verify = std::getenv("QWEN3C_VERIFY_WEIGHTS") != nullptr;
  for (uint64_t done = 0; done < want;) {
    ssize_t r = ::pread(fd, buf + done, size_t(std::min<uint64_t>(want - done, 64u << 20)),
                        off_t(kWeightsHeaderBytes + done));
    if (r <= 0) {
      std::free(buf);
      throw RunError(path + ": read failed: " + (r < 0 ? std::strerror(errno) : "unexpected end of file"));
    }
    if (verify) sum.add(buf + done, size_t(r));
    done += uint64_t(r);
  }
  if (verify && sum.value() != h.checksum) {
    std::free(buf);
    throw RunError(path + ": checksum mismatch: the file is corrupt");
  }
  return buf;
}

// QWEN3C_RANDOM_WEIGHTS=SEED, for a sidecar build: small random bf16 words
// instead of the weight file, so a timing run (a device check that cannot
// carry a 1.2 GB sidecar) needs only the executable. The logits mean nothing.
uint8_t *randomWeights(uint64_t seed) {
  const size_t bytes = size_t(CompiledModel::info(kWeightBytes));
  uint8_t *buf = allocHuge(bytes);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i + 1 < bytes; i += 2) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const float v = (float(x >> 40) / float(1 << 24) - 0.5f) * 0.1f; // [-0.05, 0.05)
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    const uint16_t word = uint16_t(bits >> 16);
    std::memcpy(buf + i, &word, 2);
  }
  std::fprintf(stderr, "qwen3c: QWEN3C_RANDOM_WEIGHTS: random weights (timing only, the logits mean nothing)\n");
  return buf;
}

// Zeroed memory on demand, in 4 KiB pages, so that a sequence's cache costs
// only the positions it used. Each (layer, KV head) owns a span of the cache
// (1 MiB of bf16 for the 0.6B at 4096 positions), so huge pages would fault
// in (and zero) every span at the first token: measured on a Zen 5 VM (0.6B,
// 4224 positions, 1 thread, alternating runs), a 512-token first prompt ran
// at 162-185 tokens/s on huge pages against 311-374 on 4 KiB pages, a
// 3-token one took up to 1.1 s, and decode after 4096 positions was the same
// within the noise (14.4-17.7 against 15.1-16.6 tokens/s). MADV_NOHUGEPAGE
// keeps it so on hosts whose transparent huge pages are "always".
void *mapZeroedOnDemand(size_t bytes) {
  void *p = mmap(nullptr, std::max<size_t>(bytes, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw RunError("out of memory mapping " + std::to_string(bytes) + " bytes of KV cache: " + std::strerror(errno));
  madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

// A cache row (one position of one KV head) as the entries' memrefs see it:
// head_dim elements, or for int8 head_dim bytes and the row's f32 scale
// (the memref [L, kv_heads, capacity, head_dim + 4] of i8).
int64_t cacheElementBytes() {
  switch (CompiledModel::info(kCacheDType)) {
  case 0: return 4;
  case 3: return 1;
  default: return 2;
  }
}
int64_t cacheRowElements() {
  return CompiledModel::info(kHeadDim) + (CompiledModel::info(kCacheDType) == 3 ? 4 : 0);
}

} // namespace

std::unique_ptr<Tokenizer> embeddedTokenizer() {
  if (!qwen3c_tokenizer) return nullptr;
  return Tokenizer::fromBinary(qwen3c_tokenizer, size_t(qwen3c_tokenizer_end - qwen3c_tokenizer), "embedded tokenizer");
}

const char *cacheDTypeName() {
  switch (CompiledModel::info(kCacheDType)) {
  case 0: return "f32";
  case 1: return "bf16";
  case 3: return "int8";
  default: return "f16";
  }
}

int64_t kvBytesPerPosition() {
  return 2 * CompiledModel::info(kNumLayers) * CompiledModel::info(kKVHeads) * cacheRowElements() *
         cacheElementBytes();
}

CompiledModel::CompiledModel(const std::string &weightsPath, int64_t sequences) {
  if (sequences < 1) throw RunError("internal error: a model needs at least one sequence");
  if (info(kAbiVersion) != kCurrentAbiVersion)
    throw RunError("model was compiled for runtime ABI " + std::to_string(info(kAbiVersion)) +
                   ", this runtime speaks " + std::to_string(kCurrentAbiVersion));
  onDevice = qwen3c_device[0] != '\0';
  if (onDevice) cuda::open(qwen3c_device); // before any work: no driver or device is one line
  if (info(kWeightsMode) == 1 && std::getenv("QWEN3C_RANDOM_WEIGHTS")) {
    weights = randomWeights(std::strtoull(std::getenv("QWEN3C_RANDOM_WEIGHTS"), nullptr, 10));
    ownsWeights = true;
  } else if (info(kWeightsMode) == 1) {
    weights = loadSidecar(weightsPath.empty() ? defaultSidecar() : weightsPath);
    ownsWeights = true;
  } else if (!weightsPath.empty()) {
    throw RunError("--weights: this model's weights are embedded in the executable");
  } else if (onDevice || std::getenv("QWEN3C_WEIGHTS_IN_PLACE")) { // a device reads its own copy
    weights = qwen3c_weights;
  } else {
    // Weights read in place from the executable's file mapping stream at
    // half the speed of anonymous memory on transparent huge pages (0.6B
    // shape: 11.5 against 21.6 tokens/s), so they are copied once.
    size_t bytes = size_t(info(kWeightBytes));
    uint8_t *copy = allocHuge(bytes);
    std::memcpy(copy, qwen3c_weights, bytes);
    weights = copy;
    ownsWeights = true;
  }
  numSequences = sequences;
  const int64_t N = decodeBatchRows();
  allocatedSequences = N > 0 && sequences > 1 ? (sequences + N - 1) / N * N : sequences;
  if (onDevice) {
    openDevice();
    return;
  }
  arena = allocZeroed(info(kArenaBytes));
  shapes.logitsChunk = info(kPrefillChunk);
  shapes.promptChunks.clear();
  for (int64_t i = 0; i < info(kNumPromptChunks); ++i) shapes.promptChunks.push_back(qwen3c_prompt_entries[i].rows);
  shapes.lastRowLogits = !shapes.promptChunks.empty();
  cacheBytes = size_t(info(kNumLayers) * info(kKVHeads) * info(kContext) * cacheRowElements() * cacheElementBytes());
  kCaches = mapZeroedOnDemand(cacheBytes * size_t(allocatedSequences));
  vCaches = mapZeroedOnDemand(cacheBytes * size_t(allocatedSequences));
}

void CompiledModel::openDevice() {
  // The weights uploaded once; the host copy (a sidecar's) is not kept.
  const size_t weightBytes = size_t(info(kWeightBytes));
  void *deviceWeights = cuda::allocate(weightBytes);
  cuda::upload(deviceWeights, weights, weightBytes);
  if (ownsWeights) std::free(const_cast<uint8_t *>(weights));
  weights = static_cast<const uint8_t *>(deviceWeights);
  ownsWeights = false;
  arena = cuda::allocate(size_t(info(kArenaBytes)));
  const char *graphs = std::getenv("QWEN3C_CUDA_GRAPH");
  useGraphs = cuda::hasGraphs() && !(graphs && std::string(graphs) == "0");
  shapes.logitsChunk = info(kPrefillChunk);
  shapes.promptChunks.clear();
  int64_t mostRows = info(kPrefillChunk);
  for (int64_t i = 0; i < info(kNumPromptChunks); ++i) {
    shapes.promptChunks.push_back(qwen3c_prompt_entries[i].rows);
    mostRows = std::max(mostRows, qwen3c_prompt_entries[i].rows);
  }
  shapes.lastRowLogits = !shapes.promptChunks.empty();
  cacheBytes = size_t(info(kNumLayers) * info(kKVHeads) * info(kContext) * cacheRowElements() * cacheElementBytes());
  kCaches = cuda::allocate(cacheBytes * size_t(allocatedSequences));
  vCaches = cuda::allocate(cacheBytes * size_t(allocatedSequences));
  const int64_t batch = decodeBatchRows();
  deviceTokens = cuda::allocate(size_t(std::max(mostRows, batch)) * sizeof(int32_t));
  deviceLogits = cuda::allocate(size_t(std::max(info(kPrefillChunk), batch) * vocab()) * sizeof(float));
}

void CompiledModel::writeIndices(std::initializer_list<int64_t> values) {
  if (onDevice) cuda::upload(arena, values.begin(), values.size() * sizeof(int64_t));
}

CompiledModel::~CompiledModel() {
  if (onDevice) {
    for (void *p : {const_cast<void *>(static_cast<const void *>(weights)), arena, kCaches, vCaches, deviceTokens, deviceLogits})
      cuda::release(p);
    return;
  }
  if (ownsWeights) std::free(const_cast<uint8_t *>(weights));
  std::free(arena);
  munmap(kCaches, cacheBytes * size_t(allocatedSequences));
  munmap(vCaches, cacheBytes * size_t(allocatedSequences));
}

std::vector<int32_t> CompiledModel::eosIds() const {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < info(kNumEos); ++i) ids.push_back(int32_t(info(kEos0 + int(i))));
  return ids;
}

const PromptEntry &CompiledModel::promptEntry(int64_t rows) {
  for (int64_t i = 0; i < info(kNumPromptChunks); ++i)
    if (qwen3c_prompt_entries[i].rows == rows) return qwen3c_prompt_entries[i];
  throw RunError("internal error: no prompt chunk of " + std::to_string(rows) + " rows");
}

std::vector<float> CompiledModel::forwardSequence(int64_t seq, const std::vector<int32_t> &tokens, int64_t pos,
                                                  bool allRows) {
  if (seq < 0 || seq >= sequences())
    throw RunError("internal error: sequence " + std::to_string(seq) + " of " + std::to_string(sequences()));
  const int64_t V = vocab(), chunk = info(kPrefillChunk);
  // Scratch kept across calls: a prefill chunk's worth of rows is 39 MB for a
  // 151936-word vocabulary, too much to allocate and zero per token.
  if (rows.size() < size_t(chunk * V)) rows.resize(size_t(chunk * V));
  int64_t cacheSizes[4] = {info(kNumLayers), info(kKVHeads), info(kContext), cacheRowElements()};
  MemRef<4> k = view<4>(kCache(seq), cacheSizes), v = view<4>(vCache(seq), cacheSizes);
  int64_t weightSizes[1] = {info(kWeightBytes)}, arenaSizes[1] = {info(kArenaBytes)};
  MemRef<1> w = view<1>(const_cast<uint8_t *>(weights), weightSizes);
  MemRef<1> a = view<1>(arena, arenaSizes);
  if (onDevice) cuda::bindThread();
  // On a device the tokens go up first and the logits come back after.
  float *logits = onDevice ? static_cast<float *>(deviceLogits) : rows.data();
  return evaluateInChunks(tokens, pos, shapes, V, maxContext(), allRows,
                          [&](const std::vector<int32_t> &ids, int64_t position, bool decode, bool needLogits,
                              int64_t row) {
                            int64_t tokSizes[1] = {int64_t(ids.size())}, logitSizes[2] = {int64_t(ids.size()), V};
                            int32_t *idsAt = const_cast<int32_t *>(ids.data());
                            if (onDevice) {
                              cuda::upload(deviceTokens, ids.data(), ids.size() * sizeof(int32_t));
                              idsAt = static_cast<int32_t *>(deviceTokens);
                            }
                            MemRef<1> t = view<1>(idsAt, tokSizes);
                            MemRef<2> l = view<2>(logits, logitSizes);
                            auto back = [&](int64_t n) { // the logits rows, on the host
                              if (onDevice) cuda::download(rows.data(), deviceLogits, size_t(n * V) * sizeof(float));
                              return static_cast<const float *>(rows.data());
                            };
                            if (row >= 0) { // a prompt's last chunk: its last row's logits
                              int64_t oneRow[2] = {1, V};
                              MemRef<2> l1 = view<2>(logits, oneRow);
                              writeIndices({position, row});
                              promptEntry(int64_t(ids.size())).runLast(&t, position, &k, &v, row, &l1, &w, &a);
                              return back(1);
                            } else if (decode) {
                              writeIndices({position});
                              if (!useGraphs || seq != 0) {
                                _mlir_ciface_decode(&t, position, &k, &v, &l, &w, &a);
                              } else {
                                if (!decodeGraph && decodeCalls++ > 0) { // the first call loaded the kernels
                                  cuda::beginCapture();
                                  _mlir_ciface_decode(&t, position, &k, &v, &l, &w, &a);
                                  decodeGraph = cuda::endCapture();
                                }
                                if (decodeGraph) cuda::replay(decodeGraph);
                                else _mlir_ciface_decode(&t, position, &k, &v, &l, &w, &a);
                              }
                            } else if (!needLogits) { // a quarter of the 0.6B's prefill FLOPs is the LM head
                              writeIndices({position});
                              promptEntry(int64_t(ids.size())).run(&t, position, &k, &v, &w, &a);
                              return static_cast<const float *>(nullptr);
                            } else {
                              writeIndices({position});
                              _mlir_ciface_prefill(&t, position, &k, &v, &l, &w, &a);
                            }
                            return back(int64_t(ids.size()));
                          });
}

const float *CompiledModel::forwardBatch(int64_t first, const std::vector<int32_t> &tokens,
                                         const std::vector<int64_t> &positions) {
  const int64_t N = decodeBatchRows(), V = vocab();
  if (N == 0 || !_mlir_ciface_decode_batch) throw RunError("internal error: this model has no @decode_batch");
  if (first < 0 || first % N != 0 || first + N > allocatedSequences || int64_t(tokens.size()) != N ||
      int64_t(positions.size()) != N)
    throw RunError("internal error: a batch of sequences " + std::to_string(first) + ".. does not fit");
  for (int64_t p : positions)
    if (p < 0 || p >= maxContext()) throw RunError("position " + std::to_string(p) + " is outside the context");
  if (rows.size() < size_t(std::max(N, info(kPrefillChunk)) * V)) rows.resize(size_t(std::max(N, info(kPrefillChunk)) * V));
  int64_t cacheSizes[4] = {N * info(kNumLayers), info(kKVHeads), info(kContext), cacheRowElements()};
  MemRef<4> k = view<4>(kCache(first), cacheSizes), v = view<4>(vCache(first), cacheSizes);
  int64_t weightSizes[1] = {info(kWeightBytes)}, arenaSizes[1] = {info(kArenaBytes)}, rowSizes[1] = {N};
  int64_t logitSizes[2] = {N, V};
  MemRef<1> w = view<1>(const_cast<uint8_t *>(weights), weightSizes), a = view<1>(arena, arenaSizes);
  int32_t *ids = const_cast<int32_t *>(tokens.data());
  if (onDevice) { // the tokens go up; the positions stay here, where the host code reads them
    cuda::bindThread();
    cuda::upload(deviceTokens, ids, size_t(N) * sizeof(int32_t));
    ids = static_cast<int32_t *>(deviceTokens);
  }
  MemRef<1> t = view<1>(ids, rowSizes);
  MemRef<1> p = view<1>(const_cast<int64_t *>(positions.data()), rowSizes);
  MemRef<2> l = view<2>(onDevice ? static_cast<float *>(deviceLogits) : rows.data(), logitSizes);
  _mlir_ciface_decode_batch(&t, &p, &k, &v, &l, &w, &a);
  if (onDevice) cuda::download(rows.data(), deviceLogits, size_t(N * V) * sizeof(float));
  return rows.data();
}

} // namespace qwen3c_rt
