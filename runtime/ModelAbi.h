//===- ModelAbi.h - what a compiled model exports to the runtime -*- C++ -*-===//
//
// The contract between codegen (which emits these symbols) and the runtime
// (which calls them). Entry points take MLIR memref descriptors through the
// `_mlir_ciface_` wrappers of `llvm.emit_c_interface`.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_MODELABI_H
#define QWEN3C_RUNTIME_MODELABI_H

#include <cstdint>

namespace qwen3c_abi {

// Indices into qwen3c_model_info[].
enum ModelInfo : int {
  kAbiVersion = 0,
  kNumLayers,
  kKVHeads,
  kContext,      // KV-cache capacity (the compiled maximum context)
  kHeadDim,
  kPrefillChunk, // tokens per @prefill call (the chunk whose logits cover every row)
  kVocab,
  kArenaBytes,
  kWeightBytes,
  kCacheDType,   // 0 f32, 1 bf16, 2 f16, 3 int8 (rows of head_dim bytes and an f32 scale)
  kBos,
  kNumEos,
  kEos0,         // up to 4 end-of-sequence ids
  kDecodeWeightBytes = kEos0 + 4, // weight bytes one decode step reads
  kWeightsMode,       // 0: embedded (qwen3c_weights), 1: sidecar file
  kWeightsChecksum,   // of the blob (sidecar mode)
  kModelId,
  kNumPromptChunks,   // entries of qwen3c_prompt_entries
  kDecodeBatch,       // rows of @decode_batch (one per sequence); 0: none
  kModelInfoSize,
};
// 4: @prefill_nologits; 5: prompt chunks of several sizes; 6: qwen3c_prefill_arithmetic;
// 7: @decode_batch; 8: each prompt chunk's one-row-logits twin (PromptEntry::runLast)
constexpr int64_t kCurrentAbiVersion = 8;

template <int Rank> struct MemRef {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

// A row-major view of `data` with `sizes` (what every caller of an entry passes).
template <int Rank> MemRef<Rank> contiguousView(void *data, const int64_t (&sizes)[Rank]) {
  MemRef<Rank> m{data, data, 0, {}, {}};
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    m.sizes[i] = sizes[i];
    m.strides[i] = stride;
    stride *= sizes[i];
  }
  return m;
}

// The logits-free prefill entries, in increasing rows: @prefill_nologits
// (rows = kPrefillChunk) and each @prefill_<T>_nologits. The runtime runs a
// prompt's tokens but the last in the chunks that pad it least.
using PromptEntryFn = void (*)(MemRef<1> *tokens, int64_t pos, MemRef<4> *k,
                               MemRef<4> *v, MemRef<1> *weights,
                               MemRef<1> *arena);
// Each one's `_last` twin (@prefill_last, @prefill_<T>_last): the same
// chunk, and the logits of row `row` alone ([1, vocab]). A prompt's last
// chunk runs there, its last token then needing no @decode call.
using PromptLastFn = void (*)(MemRef<1> *tokens, int64_t pos, MemRef<4> *k, MemRef<4> *v, int64_t row,
                              MemRef<2> *logits, MemRef<1> *weights, MemRef<1> *arena);
struct PromptEntry {
  int64_t rows;
  PromptEntryFn run;
  PromptLastFn runLast;
};
} // namespace qwen3c_abi

extern "C" {
extern const int64_t qwen3c_model_info[qwen3c_abi::kModelInfoSize];
// What the code was compiled for: the LLVM CPU name and the x86 features
// (CpuFeatures.h's names, comma-separated) it may use; checked at start-up.
extern const char qwen3c_target_cpu[];
extern const char qwen3c_target_features[];
// Where the kernels run: "" (this CPU) or "cuda:sm_NN" (a `--target cuda`
// build: arena, caches and weights are device memory, runtime/CudaDriver;
// an entry's index arguments are also written, as i64 in order, at the
// arena's start before each call: its kernels read them there).
extern const char qwen3c_device[];
// The instructions the prefill products compute with, as found in the code:
// "amx" (tdpbf16ps), "i8" (vpdpbusd), "bf16" (vdpbf16ps) or "fma" (f32). The bench takes the
// matching peak as the limit.
extern const char qwen3c_prefill_arithmetic[];
// Defined by the linker in embed mode only.
extern const uint8_t qwen3c_weights[] __attribute__((weak));
// The checkpoint's tokenizer (Tokenizer::serialize), when it had one.
extern const char qwen3c_tokenizer[] __attribute__((weak));
extern const char qwen3c_tokenizer_end[] __attribute__((weak));
// The checkpoint's chat template (Jinja source), when it had one.
extern const char qwen3c_chat_template[] __attribute__((weak));
extern const char qwen3c_chat_template_end[] __attribute__((weak));

// (tokens[T], position of tokens[0], k cache, v cache, logits[T, vocab] out,
//  weight blob, arena)
void _mlir_ciface_prefill(qwen3c_abi::MemRef<1> *tokens, int64_t pos, qwen3c_abi::MemRef<4> *k,
                          qwen3c_abi::MemRef<4> *v, qwen3c_abi::MemRef<2> *logits,
                          qwen3c_abi::MemRef<1> *weights, qwen3c_abi::MemRef<1> *arena);
// @prefill without the final norm and LM head (q3-add-logits-free-prefill):
// for every chunk of a prompt but the last when no logits are dumped.
void _mlir_ciface_prefill_nologits(qwen3c_abi::MemRef<1> *tokens, int64_t pos, qwen3c_abi::MemRef<4> *k,
                                   qwen3c_abi::MemRef<4> *v, qwen3c_abi::MemRef<1> *weights,
                                   qwen3c_abi::MemRef<1> *arena);
extern const qwen3c_abi::PromptEntry qwen3c_prompt_entries[];
void _mlir_ciface_decode(qwen3c_abi::MemRef<1> *tokens, int64_t pos, qwen3c_abi::MemRef<4> *k,
                         qwen3c_abi::MemRef<4> *v, qwen3c_abi::MemRef<2> *logits,
                         qwen3c_abi::MemRef<1> *weights, qwen3c_abi::MemRef<1> *arena);
// (tokens[N], positions[N] (i64), the caches of N sequences stacked as
//  [N * layers, kv_heads, capacity, head_dim], logits[N, vocab] out, weights,
//  arena): the next token of N sequences in one pass over the weights.
// Present when kDecodeBatch > 0.
void _mlir_ciface_decode_batch(qwen3c_abi::MemRef<1> *tokens, qwen3c_abi::MemRef<1> *positions,
                               qwen3c_abi::MemRef<4> *k, qwen3c_abi::MemRef<4> *v, qwen3c_abi::MemRef<2> *logits,
                               qwen3c_abi::MemRef<1> *weights, qwen3c_abi::MemRef<1> *arena) __attribute__((weak));
}

#endif
