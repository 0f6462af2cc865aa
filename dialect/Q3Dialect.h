//===- Q3Dialect.h - the q3 dialect -----------------------------*- C++ -*-===//
#ifndef QWEN3C_DIALECT_Q3DIALECT_H
#define QWEN3C_DIALECT_Q3DIALECT_H

#include "dialect/RopeFrequencies.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/Q3OpsDialect.h.inc"
#include "dialect/Q3OpsEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/Q3OpsAttrDefs.h.inc"

namespace q3 {
// The compute capability of an NVIDIA arch name: "sm_90" and "sm_90a" give
// 90; anything else none (#q3.gpu_launch's verifier, the strategy, --gpu-arch).
std::optional<unsigned> nvidiaArchNumber(llvm::StringRef arch);

inline bool isGatedLayout(WeightLayout l) {
  return l == WeightLayout::K16Gated || l == WeightLayout::K16GatedPairs || l == WeightLayout::K16GatedQ8 ||
         l == WeightLayout::K16GatedQ4 || l == WeightLayout::K16GatedQ8Quads || l == WeightLayout::K16GatedQ4Quads;
}
// k16_q8 / k16_q4 with each output's consecutive k in quads (the int8 dot's operand order).
inline bool isQuadLayout(WeightLayout l) {
  return l == WeightLayout::K16Q8Quads || l == WeightLayout::K16GatedQ8Quads || l == WeightLayout::K16Q4Quads ||
         l == WeightLayout::K16GatedQ4Quads;
}
inline bool isQ8Layout(WeightLayout l) {
  return l == WeightLayout::K16Q8 || l == WeightLayout::K16GatedQ8 || l == WeightLayout::K16Q8Quads ||
         l == WeightLayout::K16GatedQ8Quads;
}
inline bool isQ4Layout(WeightLayout l) {
  return l == WeightLayout::K16Q4 || l == WeightLayout::K16GatedQ4 || l == WeightLayout::K16Q4Quads ||
         l == WeightLayout::K16GatedQ4Quads;
}
// int8 or int4 values with an f16 scale per output and group of kQ8Group k.
inline bool isQuantisedLayout(WeightLayout l) { return isQ8Layout(l) || isQ4Layout(l); }
// The k of one int8 scale (llama.cpp's QK8_0).
inline constexpr int64_t kQ8Group = 32;
inline bool isPairedLayout(WeightLayout l) { return l == WeightLayout::K16Pairs || l == WeightLayout::K16GatedPairs; }
inline bool isAMXDot(ProductDot d) { return d == ProductDot::AMX || d == ProductDot::AMXEmulated; }
// vdpbf16ps (or its FMA emulation): pairs of bf16 products summed into f32.
inline bool isBF16Dot(ProductDot d) { return d == ProductDot::BF16 || d == ProductDot::BF16Emulated; }
// The families whose inputs are rounded to bf16 (AMX tiles, vdpbf16ps).
inline bool roundsToBF16(ProductDot d) { return isAMXDot(d) || isBF16Dot(d); }
// The int8 dot families: int8 activations against k16_q8_quads weights.
inline bool isI8Dot(ProductDot d) {
  return d == ProductDot::I8 || d == ProductDot::I8Emulated || d == ProductDot::I8Madd;
}
// The vector width an int8 dot family reads a 16-output block in: one
// 16-lane vector, or (i8_madd) two 256-bit halves.
inline int64_t i8DotVectorWidth(ProductDot d) { return d == ProductDot::I8Madd ? 8 : 16; }
// tmm0..tmm7: input, weight and accumulator tiles of one AMX product tile.
inline constexpr int64_t kAMXTileRegisters = 8;
// An AMX step covers 32 k (16 bf16 pairs: one 64-byte tile row).
inline constexpr int64_t kAMXTileDepth = 32;
// The k block of the AMX product family's strategy (#q3.lowering_config k_block).
inline constexpr int64_t kAMXKBlock = 256;
// Query rows (heads x positions) of one query-tiled attention work item: the
// score accumulators of all of them are live at once.
inline constexpr int64_t kMaxAttentionTileRows = 8;
// At most this many register tiles per prompt work item (#q3.attention_config's query_tiles).
inline constexpr int64_t kMaxAttentionQueryTiles = 16;
// At most this many key ranges per decode work item (#q3.attention_config's kv_split).
inline constexpr int64_t kMaxAttentionKVSplit = 64;
// Query rows of one AMX attention work item at most (its scratch: 64 rows
// of the 0.6B shape are 76 KiB).
inline constexpr int64_t kMaxAMXAttentionRows = 64;

// Unit attribute on an entry point whose logits nobody reads (the large
// prompt chunks): q3-add-logits-free-prefill replaces it by its
// logits-free form `<name>_nologits`.
inline constexpr const char *kPromptOnlyAttr = "q3.prompt_only";
} // namespace q3

#endif
