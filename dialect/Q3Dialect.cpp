//===- Q3Dialect.cpp - q3 dialect registration ------------------------------===//
#include "dialect/Q3Dialect.h"
#include "dialect/Q3Ops.h"

#include "mlir/IR/DialectImplementation.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace q3;

#include "dialect/Q3OpsDialect.cpp.inc"
#include "dialect/Q3OpsEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/Q3OpsAttrDefs.cpp.inc"

LogicalResult LoweringConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t tileRows,
                                         int64_t tileBlocks, int64_t vectorWidth, int64_t prefetch, BoolAttr stageNorm,
                                         BoolAttr splitBlocks, ProductDot dot, int64_t kBlock) {
  if (tileRows < 1) return emitError() << "tile_rows must be at least 1, got " << tileRows;
  if (tileBlocks < 1) return emitError() << "tile_blocks must be at least 1, got " << tileBlocks;
  if (vectorWidth != 4 && vectorWidth != 8 && vectorWidth != 16)
    return emitError() << "vector_width must be 4, 8 or 16 f32 lanes (a divisor of the 16-row block), got "
                       << vectorWidth;
  if (prefetch < 0) return emitError() << "prefetch must be 0 (off) or more k steps, got " << prefetch;
  if (!stageNorm) return emitError() << "stage_norm must be true or false";
  if (!splitBlocks) return emitError() << "split_blocks must be true or false";
  if (dot == ProductDot::BF16 && vectorWidth == 4)
    return emitError() << "dot = bf16 needs vector_width 8 or 16 (vdpbf16ps on ymm or zmm)";
  if (isAMXDot(dot)) {
    if (tileRows != 16 && tileRows != 32)
      return emitError() << "dot = " << stringifyProductDot(dot) << " needs tile_rows 16 or 32 (one or two input tiles), got "
                         << tileRows;
    int64_t inputTiles = tileRows / 16, tiles = inputTiles + tileBlocks + inputTiles * tileBlocks;
    if (tiles > kAMXTileRegisters)
      return emitError() << "dot = " << stringifyProductDot(dot) << ": " << inputTiles << " input, " << tileBlocks
                         << " weight and " << inputTiles * tileBlocks << " accumulator tiles exceed the "
                         << kAMXTileRegisters << " AMX tile registers";
    if (prefetch != 0) return emitError() << "dot = " << stringifyProductDot(dot) << " takes no prefetch";
  }
  if (kBlock != 0 && (!isAMXDot(dot) || kBlock % kAMXTileDepth != 0))
    return emitError() << "k_block (" << kBlock << ") needs an AMX dot and a multiple of " << kAMXTileDepth;
  return success();
}

Attribute AttentionConfigAttr::parse(AsmParser &p, Type) {
  int64_t headBlock = 0, scoreBlock = 0, queryBlock = 1, kvSplit = 1, valueBlock = 0, queryTiles = 1;
  ProductDot dot = ProductDot::FMA;
  bool prefetchValues = true;
  if (p.parseLess() || p.parseKeyword("head_block") || p.parseEqual() || p.parseInteger(headBlock) || p.parseComma() ||
      p.parseKeyword("score_block") || p.parseEqual() || p.parseInteger(scoreBlock))
    return {};
  while (succeeded(p.parseOptionalComma())) {
    StringRef key;
    if (p.parseKeyword(&key) || p.parseEqual()) return {};
    if (key == "query_block") {
      if (p.parseInteger(queryBlock)) return {};
    } else if (key == "kv_split") {
      if (p.parseInteger(kvSplit)) return {};
    } else if (key == "value_block") {
      if (p.parseInteger(valueBlock)) return {};
    } else if (key == "query_tiles") {
      if (p.parseInteger(queryTiles)) return {};
    } else if (key == "prefetch_values") {
      StringRef value;
      SMLoc at = p.getCurrentLocation();
      if (p.parseKeyword(&value)) return {};
      if (value != "true" && value != "false")
        return p.emitError(at, "prefetch_values must be true or false, got '") << value << "'", Attribute();
      prefetchValues = value == "true";
    } else if (key == "dot") {
      StringRef name;
      SMLoc at = p.getCurrentLocation();
      if (p.parseKeyword(&name)) return {};
      auto d = symbolizeProductDot(name);
      if (!d) return p.emitError(at, "unknown dot '") << name << "'", Attribute();
      dot = *d;
    } else {
      return p.emitError(p.getCurrentLocation(), "expected query_block, dot, kv_split, value_block, query_tiles or prefetch_values, got '") << key << "'",
             Attribute();
    }
  }
  if (p.parseGreater()) return {};
  return getChecked([&] { return p.emitError(p.getNameLoc()); }, p.getContext(), headBlock, scoreBlock, queryBlock,
                    dot, kvSplit, valueBlock, queryTiles, prefetchValues);
}

void AttentionConfigAttr::print(AsmPrinter &p) const {
  p << "<head_block = " << getHeadBlock() << ", score_block = " << getScoreBlock();
  if (getQueryBlock() != 1) p << ", query_block = " << getQueryBlock();
  if (getDot() != ProductDot::FMA) p << ", dot = " << stringifyProductDot(getDot());
  if (getKvSplit() != 1) p << ", kv_split = " << getKvSplit();
  if (getValueBlock() != 0) p << ", value_block = " << getValueBlock();
  if (getQueryTiles() != 1) p << ", query_tiles = " << getQueryTiles();
  if (!getPrefetchValues()) p << ", prefetch_values = false";
  p << ">";
}

LogicalResult AttentionConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t headBlock,
                                          int64_t scoreBlock, int64_t queryBlock, ProductDot dot, int64_t kvSplit,
                                          int64_t valueBlock, int64_t queryTiles, bool prefetchValues) {
  if (headBlock < 1) return emitError() << "head_block must be at least 1, got " << headBlock;
  if (valueBlock < 0) return emitError() << "value_block must be 0 (none) or more, got " << valueBlock;
  // The vector kernel over a key-blocked cache takes fma and the bf16 pair
  // dots (vdpbf16ps, emulated); AMX has its own.
  const bool vectorKernel = dot == ProductDot::FMA || isBF16Dot(dot);
  if (valueBlock != 0 && !vectorKernel)
    return emitError() << "value_block is for the fma and bf16 kernels, not dot = " << stringifyProductDot(dot);
  if (!prefetchValues && !vectorKernel)
    return emitError() << "prefetch_values is for the fma and bf16 kernels, not dot = " << stringifyProductDot(dot);
  if (queryTiles < 1 || queryTiles > kMaxAttentionQueryTiles)
    return emitError() << "query_tiles must be 1.." << kMaxAttentionQueryTiles << ", got " << queryTiles;
  if (queryTiles > 1 && (!vectorKernel || kvSplit > 1))
    return emitError() << "query_tiles = " << queryTiles
                       << " is for the fma and bf16 kernels over a prompt (dot fma, bf16 or bf16_emulated; kv_split 1)";
  if (kvSplit < 1 || kvSplit > kMaxAttentionKVSplit)
    return emitError() << "kv_split must be 1.." << kMaxAttentionKVSplit << ", got " << kvSplit;
  if (kvSplit > 1 && (queryBlock > 1 || dot != ProductDot::FMA))
    return emitError() << "kv_split = " << kvSplit << " is for one query row on the fma kernel (query_block 1, dot fma)";
  if (scoreBlock != 4 && scoreBlock != 8 && scoreBlock != 16)
    return emitError() << "score_block must be 4, 8 or 16 positions, got " << scoreBlock;
  if (queryBlock < 1) return emitError() << "query_block must be at least 1, got " << queryBlock;
  if (dot == ProductDot::AMX || dot == ProductDot::AMXEmulated) {
    // Tiles of 16 query rows; the scratch of a work item stays in L1/L2.
    int64_t rows = headBlock * queryBlock;
    if (rows % 16 != 0 || rows > kMaxAMXAttentionRows)
      return emitError() << "dot = " << stringifyProductDot(dot) << ": head_block * query_block must be a multiple "
                         << "of 16 up to " << kMaxAMXAttentionRows << " query rows, got " << rows;
    if (scoreBlock != 16) return emitError() << "dot = " << stringifyProductDot(dot) << ": score_block must be 16";
    return success();
  }
  if (!vectorKernel)
    return emitError() << "dot = " << stringifyProductDot(dot)
                       << ": attention is fma, bf16, bf16_emulated, amx or amx_emulated";
  if (isBF16Dot(dot) && scoreBlock != 16)
    return emitError() << "dot = " << stringifyProductDot(dot) << ": score_block must be 16";
  if (queryBlock > 1 && headBlock * queryBlock > kMaxAttentionTileRows)
    return emitError() << "head_block * query_block must be at most " << kMaxAttentionTileRows
                       << " query rows, got " << headBlock * queryBlock;
  return success();
}

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef cpu, int64_t vectorBits,
                                 int64_t vectorRegisters, int64_t l2Bytes, StringRef features) {
  if (cpu.empty()) return emitError() << "cpu must name an LLVM CPU";
  if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512)
    return emitError() << "vector_bits must be 128, 256 or 512, got " << vectorBits;
  if (vectorRegisters != 16 && vectorRegisters != 32)
    return emitError() << "vector_registers must be 16 or 32, got " << vectorRegisters;
  if (l2Bytes < 0) return emitError() << "l2_bytes must be 0 (unknown) or more, got " << l2Bytes;
  return success();
}

std::optional<unsigned> q3::nvidiaArchNumber(StringRef arch) {
  unsigned sm = 0;
  if (!arch.consume_front("sm_")) return std::nullopt;
  arch.consume_back("a"); // sm_90a: the arch-specific features
  if (arch.empty() || arch.getAsInteger(10, sm)) return std::nullopt;
  return sm;
}

LogicalResult GpuLaunchAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef arch, int64_t threads,
                                    int64_t productWarps, int64_t productRows, int64_t productVector,
                                    int64_t decodeSplits, int64_t mmaMinRows, int64_t mmaWarpRows,
                                    int64_t mmaWarpCols) {
  const std::optional<unsigned> sm = nvidiaArchNumber(arch);
  if (!sm) return emitError() << "arch must be sm_NN, got '" << arch << "'";
  if (threads < 32 || threads > 1024 || threads % 32)
    return emitError() << "threads must be a multiple of 32 from 32 to 1024, got " << threads;
  if (productWarps < 1 || productWarps > 32)
    return emitError() << "product_warps must be 1 to 32 (a block of at most 1024 threads), got " << productWarps;
  if (productRows < 1 || productRows > 64 || (productRows & (productRows - 1)))
    return emitError() << "product_rows must be a power of two from 1 to 64, got " << productRows;
  if (productVector != 1 && productVector != 2 && productVector != 4 && productVector != 8)
    return emitError() << "product_vector must be 1, 2, 4 or 8, got " << productVector;
  if (decodeSplits < 1) return emitError() << "decode_splits must be at least 1, got " << decodeSplits;
  if (mmaMinRows < 0 || mmaMinRows % 16)
    return emitError() << "mma_min_rows must be 0 (no tensor cores) or a multiple of 16, got " << mmaMinRows;
  if (mmaMinRows && *sm < 80)
    return emitError() << "mma_min_rows = " << mmaMinRows << ": bf16 tensor cores (mma.sync m16n8k16) need sm_80 or later, not "
                       << arch;
  if (mmaWarpRows != 16 && mmaWarpRows != 32 && mmaWarpRows != 64)
    return emitError() << "mma_warp_rows must be 16, 32 or 64, got " << mmaWarpRows;
  if (mmaWarpCols < 8 || mmaWarpCols > 64 || mmaWarpCols % 8)
    return emitError() << "mma_warp_cols must be 8 to 64 in steps of 8, got " << mmaWarpCols;
  return success();
}

namespace {
// Every q3 op is pure and region-free, so inlining a layer function into the
// layer loop is always legal.
struct Q3InlinerInterface : public DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final { return true; }
};
} // namespace

void Q3Dialect::initialize() {
  addInterfaces<Q3InlinerInterface>();
  addOperations<
#define GET_OP_LIST
#include "dialect/Q3Ops.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/Q3OpsAttrDefs.cpp.inc"
      >();
}
