//===- GraphBuilder.h - a Qwen3 config as a q3 module -----------*- C++ -*-===//
#ifndef QWEN3C_FRONTEND_GRAPHBUILDER_H
#define QWEN3C_FRONTEND_GRAPHBUILDER_H

#include "frontend/DType.h"
#include "frontend/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace q3c {

// The KV cache's element type (`--kv-dtype`): f32, bf16, or int8 rows with
// one f32 scale each (q3's i8 cache, dialect/Q3Ops.td).
enum class CacheDType { F32, BF16, F16, Int8 };
std::optional<CacheDType> parseCacheDType(const std::string &name); // f32, bf16, f16, int8
const char *cacheDTypeName(CacheDType t);
// Bytes one position of one KV head takes in K or in V: head_dim elements,
// and the int8 row's scale.
int64_t cacheRowBytes(CacheDType t, int64_t headDim);

struct GraphOptions {
  int64_t prefillChunk = 16;  // tokens per @prefill call (the tail is padded)
  // Larger chunks for long prompts: one entry point `prefill_<T>` each,
  // marked `q3.prompt_only` (its logits are never read; see
  // q3-add-logits-free-prefill). Each must exceed prefillChunk.
  std::vector<int64_t> promptChunks;
  int64_t maxContext = 4096;  // KV-cache capacity
  // Rows of @decode_batch (0: none): one token of each of that many
  // independent sequences per call, one pass over the weights for all.
  int64_t decodeBatch = 0;
  CacheDType cacheDType = CacheDType::F32;
  // Element type of each weight, asked with the tensor name pattern
  // ("model.layers.{layer}.mlp.up_proj.weight"); by default torch_dtype.
  std::function<DType(const std::string &pattern)> weightDType;
};

// Sets prefillChunk and promptChunks from `--chunk` of build and emit-ir
// (sizes in increasing order: the first is @prefill's, whose logits cover
// every row, the others prompt-only) once maxContext is set. Given none: the
// default sizes that fit the context, and min(16, context) at least.
void setPrefillChunks(GraphOptions &options, const std::vector<int64_t> &given);
inline constexpr int64_t kDefaultPrefillChunks[] = {16, 64, 256};
// Rows of @decode_batch that build and emit-ir give a model unless told
// (--decode-batch): the server's four concurrent streams in one pass.
inline constexpr int64_t kDefaultDecodeBatch = 4;
// Sets decodeBatch from `--decode-batch` of build and emit-ir: 0 or 1 is
// none (one row is @decode), at most 64.
void setDecodeBatch(GraphOptions &options, int64_t given);

// The module holds, for each entry point (`prefill` with T = prefillChunk,
// `prefill_<T>` for each of promptChunks, `decode` with T = 1):
//   func @<entry>(%tokens: tensor<Txi32>, %pos: index,
//                 %k_cache, %v_cache: tensor<L x kv_heads x capacity x head_dim>)
//       -> (logits tensor<T x vocab x f32>, k_cache, v_cache)
// which loops over layers calling one layer function per layer kind
// (@<entry>_dense_layer, @<entry>_moe_layer): never one copy per layer.
// With decodeBatch = N, also
//   func @decode_batch(%tokens: tensor<Nxi32>, %positions: tensor<Nxi64>,
//                      %k_cache, %v_cache: tensor<N*L x kv_heads x capacity x head_dim>)
//       -> (logits tensor<N x vocab x f32>, k_cache, v_cache)
// whose row n is the next token of sequence n at positions[n]: sequence n's
// cache is layers n*L .. n*L+L-1 of the stacked caches. The products run
// over all N rows; QK-norm, RoPE, the cache writes and attention run per
// row, on that row's cache and position.
mlir::OwningOpRef<mlir::ModuleOp> buildModel(mlir::MLIRContext &ctx, const ModelConfig &config,
                                             const GraphOptions &options);

// Loads the dialects buildModel and the interpreter need.
void loadQ3Dialects(mlir::MLIRContext &ctx);

} // namespace q3c

#endif
