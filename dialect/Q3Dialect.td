//===- Q3Dialect.td - the q3 dialect: Qwen3 building blocks -*- tablegen -*-===//
//
// q3 describes a Qwen3 model at the level of its building blocks (RMSNorm,
// linear, RoPE, attention over a KV cache, SwiGLU, MoE routing), on static
// tensors. Passes fuse these blocks and lower them to upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef Q3_DIALECT_TD
#define Q3_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Q3_Dialect : Dialect {
  let name = "q3";
  let cppNamespace = "::q3";
  let summary = "Qwen3 model building blocks";
  let description = [{
    Ops at the granularity of a transformer block: embedding gather, RMSNorm,
    linear with the Hugging Face [out, in] weight layout, rotary embedding,
    grouped-query causal attention over an explicit KV cache, SwiGLU, MoE
    router and experts, argmax. Weights are named references into the
    checkpoint (`q3.weight`), resolved per layer at run time, so one layer
    function serves every layer.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Plain attribute dictionaries: type inference then sees attributes while
  // an op is being parsed (properties are only filled in afterwards).
  let usePropertiesForAttributes = 0;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

// How RoPE pairs the elements of a head. Qwen3 (like Llama) rotates element i
// with element i + head_dim/2 ("split halves"); GPT-J style pairs neighbours.
def Q3_RopeStyle : I32EnumAttr<"RopeStyle", "rotary embedding pairing", [
    I32EnumAttrCase<"SplitHalves", 0, "split_halves">,
    I32EnumAttrCase<"Interleaved", 1, "interleaved">]> {
  let cppNamespace = "::q3";
  let genSpecializedAttr = 0;
}
def Q3_RopeStyleAttr : EnumAttr<Q3_Dialect, Q3_RopeStyle, "rope_style"> {
  let assemblyFormat = "`<` $value `>`";
}

// --- What the strategy writes and the lowering reads --------------------------

// The packed layouts a weight can be stored in (q3-choose-weight-layouts).
// A weight without the attribute keeps the checkpoint's [out, in] rows.
def Q3_WeightLayout : I32EnumAttr<"WeightLayout", "packed weight layout", [
    // Wp[n / 16][k][n % 16]: blocks of 16 rows stored column by column, so a
    // matrix-vector product streams one contiguous block per 16 outputs.
    I32EnumAttrCase<"K16", 0, "k16">,
    // A stacked [gate; up] in k16 blocks with gate block j next to up block
    // j, so a register tile holds both halves of its 16 SwiGLU outputs.
    I32EnumAttrCase<"K16Gated", 1, "k16_gated">,
    // k16 with consecutive k in pairs, Wp[n / 16][k / 2][n % 16][k % 2]: the
    // operand order of the bf16 pair dot products (vdpbf16ps); the f32 FMA
    // kernels read it too (even k, then odd, as in k16).
    I32EnumAttrCase<"K16Pairs", 2, "k16_pairs">,
    I32EnumAttrCase<"K16GatedPairs", 3, "k16_gated_pairs">,
    // Weight-only int8 (--weights-dtype int8): k16 blocks of int8 values,
    // Wq[n / 16][k][n % 16], then f16 scales Ws[n / 16][k / 32][n % 16],
    // one per output and group of 32 consecutive k (symmetric, d = amax /
    // 127, q = round(w / d): exactly llama.cpp's Q8_0). The kernels widen
    // and scale in registers.
    I32EnumAttrCase<"K16Q8", 4, "k16_q8">,
    I32EnumAttrCase<"K16GatedQ8", 5, "k16_gated_q8">,
    // Weight-only int4 (--weights-dtype int4): llama.cpp's Q4_0 values (per
    // output and group of 32 k, d = max / -8 with max the signed value of
    // largest magnitude, q = min(15, trunc(w / d + 8.5)), w' = (q - 8) d), as
    // nibbles in k16 blocks of k pairs, Wq[n / 16][k / 2][n % 16] bytes with
    // k even in the low nibble, then f16 scales Ws[n / 16][k / 32][n % 16].
    I32EnumAttrCase<"K16Q4", 6, "k16_q4">,
    I32EnumAttrCase<"K16GatedQ4", 7, "k16_gated_q4">,
    // k16_q8 with consecutive k in quads, Wq[n / 16][k / 4][n % 16][k % 4]
    // (the same scales): each output's four k in one 32-bit lane, the
    // operand order of the int8 dot products (vpdpbusd, and AMX-INT8's B
    // tiles), so a 64-byte load is 4 k of a whole 16-output block.
    I32EnumAttrCase<"K16Q8Quads", 8, "k16_q8_quads">,
    I32EnumAttrCase<"K16GatedQ8Quads", 9, "k16_gated_q8_quads">,
    // k16_q4 for the int8 dot: Wq[n / 16][k / 8][n % 16][4] bytes, byte j
    // of a lane holding k = 8p + j in its low nibble and 8p + 4 + j in its
    // high one, so a 64-byte load is 8 k of a whole block, its low nibbles
    // one quad per lane and its high nibbles the next (the same scales).
    I32EnumAttrCase<"K16Q4Quads", 10, "k16_q4_quads">,
    I32EnumAttrCase<"K16GatedQ4Quads", 11, "k16_gated_q4_quads">]> {
  let cppNamespace = "::q3";
  let genSpecializedAttr = 0;
}

// The arithmetic of a product's inner step.
def Q3_ProductDot : I32EnumAttr<"ProductDot", "inner product arithmetic of a tiled product", [
    // f32 FMA on weights widened to f32, activations in f32 (exact).
    I32EnumAttrCase<"FMA", 0, "fma">,
    // vdpbf16ps (AVX512-BF16) on k16_pairs weights and activations rounded
    // to bf16: two k steps per instruction.
    I32EnumAttrCase<"BF16", 1, "bf16">,
    // The same arithmetic as `bf16` by two f32 FMAs per pair (odd k, then
    // even, as vdpbf16ps adds them), on any target: checks the family where
    // the instruction is missing, and gives its results there.
    I32EnumAttrCase<"BF16Emulated", 2, "bf16_emulated">,
    // AMX-BF16 tiles (tdpbf16ps) on k16_pairs weights, whose 16-row blocks
    // are already the instruction's B operand (16 k pairs x 16 outputs, 64
    // bytes a row), and activations rounded to bf16: per step of 32 k, each
    // 16-row input tile times each weight block into a 16 x 16 f32 tile.
    // tile_rows is 16 or 32 (input tiles), tile_blocks the weight tiles.
    I32EnumAttrCase<"AMX", 3, "amx">,
    // The same tile loops with each tile product computed by vector FMAs
    // from memory, on any target: checks the AMX family's indexing,
    // padding and epilogue where the instructions are missing.
    I32EnumAttrCase<"AMXEmulated", 4, "amx_emulated">,
    // vpdpbusd (AVX512-VNNI) on k16_q8_quads weights: activations quantised
    // per row and group of 32 k to int8 (d = max|x| / 127, q = x * (127 /
    // max|x|) rounded to nearest even), each group's integer dot exact in
    // i32, then scaled by both scales into the f32 sum. The weights' signed
    // bytes are made unsigned in registers (q + 128, an xor) and the group's
    // 128 * sum(q_x) taken off again.
    I32EnumAttrCase<"I8", 5, "i8">,
    // The same integer arithmetic in plain vector ops, on any target: the
    // results of `i8` where the instruction is missing.
    I32EnumAttrCase<"I8Emulated", 6, "i8_emulated">,
    // AVX2, which has no int8 dot instruction: the same integers on the same
    // k16_q8_quads weights in 256-bit halves of a block (vector_width 8) by
    // vpmaddubsw (unsigned x signed bytes into i16 pairs) and vpmaddwd (the
    // pairs into i32). int8: the unsigned operand is |q_w| and the signed one
    // q_x with q_w's sign (vpsignb), so no pair sum leaves i16
    // (2 * 128 * 127 < 2^15) and no offset is taken off; int4: the nibbles
    // against q_x, as `i8` does.
    I32EnumAttrCase<"I8Madd", 7, "i8_madd">]> {
  let cppNamespace = "::q3";
  let genSpecializedAttr = 0;
}
def Q3_LayoutAttr : EnumAttr<Q3_Dialect, Q3_WeightLayout, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}

// How one product (q3.linear and the fused linears on k16 weights) is
// generated: the register tile, the vector width of its operations, the
// software prefetch distance and whether a folded norm is staged. Written by
// q3-choose-lowering-config from the target; a lit test pins one by hand.
// YaRN rope scaling (Qwen3's long-context recipe) on a q3.rope or
// q3.norm_rope: see dialect/RopeFrequencies.h for the formula.
def Q3_YarnAttr : AttrDef<Q3_Dialect, "Yarn"> {
  let mnemonic = "yarn";
  let summary = "YaRN rope scaling: interpolated frequencies and an attention factor";
  let description = [{
    `factor`: how many times the original context the positions reach;
    `original_context`: the positions the model was trained on; `beta_fast`
    and `beta_slow`: the rotation counts bounding the blend between
    extrapolated and interpolated frequencies; `attention_factor`: what
    cos and sin are multiplied by.
  }];
  let parameters = (ins "::mlir::FloatAttr":$factor, "int64_t":$originalContext, "::mlir::FloatAttr":$betaFast,
                        "::mlir::FloatAttr":$betaSlow, "::mlir::FloatAttr":$attentionFactor);
  let assemblyFormat = [{
    `<` `factor` `=` $factor `,` `original_context` `=` $originalContext `,` `beta_fast` `=` $betaFast `,`
        `beta_slow` `=` $betaSlow `,` `attention_factor` `=` $attentionFactor `>`
  }];
  let extraClassDeclaration = [{
    ::q3::YarnScaling scaling() const {
      return {getFactor().getValueAsDouble(), getBetaFast().getValueAsDouble(), getBetaSlow().getValueAsDouble(),
              getAttentionFactor().getValueAsDouble(), getOriginalContext()};
    }
  }];
}

def Q3_LoweringConfigAttr : AttrDef<Q3_Dialect, "LoweringConfig"> {
  let mnemonic = "lowering_config";
  let summary = "register tile, vector width and prefetch of one product's kernel";
  let description = [{
    `tile_rows` input rows x `tile_blocks` blocks of 16 outputs form a
    register tile of tile_rows * tile_blocks * (16 / vector_width)
    accumulators of `vector_width` f32 lanes (16: one zmm, 8: one ymm).
    `prefetch`: how many k steps ahead each weight block is prefetched (0:
    off). `stage_norm`: a folded RMSNorm writes the normalised rows once
    and the tile reads them (else the norm is applied as x is loaded).
    `split_blocks`: with vectors narrower than a block, compute a block's
    vectors in separate passes over k (tile_rows * tile_blocks accumulators
    per pass) rather than all at once: how AVX2 keeps 4 rows of a gated
    (gate, up) pair in 16 registers. `dot` (printed when not `fma`): the
    inner step's arithmetic, a `ProductDot` (bf16 families read k16_pairs
    weights). With an AMX dot the tile is of AMX tiles instead:
    tile_rows / 16 input tiles x tile_blocks weight tiles, each pair
    accumulating into one f32 tile, all eight tile registers at most;
    vector_width is then the epilogue's. `k_block` (AMX only, printed when
    not 0): k in blocks of that many, each block over every row tile
    before the next, the accumulators kept in memory between blocks, so
    that a block's weight tiles stay in L1 for all the rows (0: all of k
    at once).
  }];
  let parameters = (ins "int64_t":$tileRows, "int64_t":$tileBlocks, "int64_t":$vectorWidth,
                        "int64_t":$prefetch, "::mlir::BoolAttr":$stageNorm, "::mlir::BoolAttr":$splitBlocks,
                        DefaultValuedParameter<"::q3::ProductDot", "::q3::ProductDot::FMA">:$dot,
                        DefaultValuedParameter<"int64_t", "0">:$kBlock);
  let assemblyFormat = [{
    `<` `tile_rows` `=` $tileRows `,` `tile_blocks` `=` $tileBlocks `,` `vector_width` `=` $vectorWidth `,`
        `prefetch` `=` $prefetch `,` `stage_norm` `=` $stageNorm `,` `split_blocks` `=` $splitBlocks
        (`,` `dot` `=` $dot^)? (`,` `k_block` `=` $kBlock^)? `>`
  }];
  let genVerifyDecl = 1;
}

// How one q3.attention is generated (q3-choose-lowering-config, from the
// target): the query heads of one KV head handled together, and the block of
// key positions whose scores fill one vector in the online softmax.
def Q3_AttentionConfigAttr : AttrDef<Q3_Dialect, "AttentionConfig"> {
  let mnemonic = "attention_config";
  let summary = "head block, score block and query block of one attention kernel";
  let description = [{
    `head_block` query heads (of the G that share a KV head; it divides G)
    form one work item: each K and V row is loaded once for all of them,
    and their query and output rows stay in registers. `score_block` key
    positions fill one score vector of the online softmax (one vector exp
    and one rescale of the state per block). `query_block` > 1 (online
    softmax only; it divides the query rows) tiles the queries too: a work
    item is that many consecutive query rows of its heads, each block of
    keys is read (and widened to f32) once for all of them, and their
    output rows accumulate in a scratch tile. `dot` (printed when not
    `fma`): `amx` computes the scores and the weighted values as AMX-BF16
    tile products (queries and softmax weights rounded to bf16, over a bf16
    cache; head_block * query_block rows, a multiple of 16, 32 keys a
    step); `amx_emulated` runs the same loops with each tile product done
    by vector FMAs from memory, on any target. `kv_split` > 1 (one query
    row over a key-blocked cache: decode) splits each work item's key
    blocks into that many consecutive ranges, each its own parallel work
    item with its own softmax state (flash-decoding), combined in a second
    parallel loop: a decode step has heads x splits items for the threads,
    not only the KV heads. `value_block` (the FMA kernel over a key-blocked
    cache, which needs it) is how many output elements of every tile row
    one pass of the weighted value sum accumulates in registers: each V
    vector is loaded and widened once for all the rows, so rows x
    value_block f32 accumulators, the V vectors and a broadcast must fit
    the target's vector registers. `query_tiles` > 1 (the same kernel, a
    prompt chunk) makes a work item that many consecutive register tiles
    of query_block rows, run one after the other over each key block while
    the block is in L1: each K and V byte is read from L2/L3 or memory once
    for head_block x query_block x query_tiles query rows, not once a tile.
    `prefetch_values` (the same kernel; printed only when false) asks for
    the next key block's V rows whole while this block's are summed: the
    value passes read a block's rows a slice at a time, which some
    hardware prefetchers follow poorly; where they stream better alone
    (AMD Zen 4) the requests only cost bandwidth.
  }];
  let parameters = (ins "int64_t":$headBlock, "int64_t":$scoreBlock,
                        DefaultValuedParameter<"int64_t", "1">:$queryBlock,
                        DefaultValuedParameter<"::q3::ProductDot", "::q3::ProductDot::FMA">:$dot,
                        DefaultValuedParameter<"int64_t", "1">:$kvSplit,
                        DefaultValuedParameter<"int64_t", "0">:$valueBlock,
                        DefaultValuedParameter<"int64_t", "1">:$queryTiles,
                        DefaultValuedParameter<"bool", "true">:$prefetchValues);
  // `<head_block = H, score_block = S` then the non-default ones of
  // query_block, dot, kv_split, value_block, query_tiles and prefetch_values in any order (optional groups that all
  // begin with `,` cannot be told apart by the generated parser).
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

// The CPU a module is compiled for (q3-set-target): what the strategy
// passes read, and nothing else chooses from.
def Q3_TargetAttr : AttrDef<Q3_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "the CPU the module is compiled for";
  let description = [{
    `cpu`: LLVM's CPU name; `vector_bits`: the widest vector register (512
    with AVX-512, 256 with AVX2); `vector_registers`: how many there are
    (32 or 16); `l2_bytes`: per-core L2 (0: unknown); `features`: the x86
    features the code may use, comma-separated (runtime/CpuFeatures.h's
    names: avx2, fma, avx512f, avx512bf16, amx-bf16, ...).
  }];
  let parameters = (ins StringRefParameter<>:$cpu, "int64_t":$vectorBits, "int64_t":$vectorRegisters,
                        "int64_t":$l2Bytes, StringRefParameter<>:$features);
  let assemblyFormat = [{
    `<` `cpu` `=` $cpu `,` `vector_bits` `=` $vectorBits `,` `vector_registers` `=` $vectorRegisters `,`
        `l2_bytes` `=` $l2Bytes `,` `features` `=` $features `>`
  }];
  let genVerifyDecl = 1;
}

// How q3-lower-to-gpu launches each kernel family (q3-choose-gpu-launch):
// the GPU's lowering config, one per module.
def Q3_GpuLaunchAttr : AttrDef<Q3_Dialect, "GpuLaunch"> {
  let mnemonic = "gpu_launch";
  let summary = "the launch shapes of the GPU kernel families";
  let description = [{
    `arch`: the NVIDIA arch the PTX targets. `threads`: a block of the
    elementwise, norm and attention kernels (a multiple of 32, at most
    1024). `product_warps`: output columns (a warp each) per product block.
    `product_rows`: the most input rows one product block shares each
    weight load with (a power of two; a block takes the largest that
    divides the rows). `product_vector`: the most weight elements a lane
    loads at once (1, 2, 4 or 8: up to 16 bytes of bf16; a product takes
    the widest whose whole warps cover k). `decode_splits`: the key ranges
    of one token's attention per query head (flash-decoding), combined by
    a second kernel. `mma_min_rows`: products of at least this many rows
    (a multiple of 16; bf16 weights, k a multiple of 16, columns of 16)
    run on the tensor cores (mma.sync m16n8k16 bf16, activations rounded
    to bf16; sm_80 or later), 0 for none; each warp computes a tile of
    `mma_warp_rows` x `mma_warp_cols` outputs (16, 32 or 64 rows; 8 to 64
    columns in steps of 8), `product_warps` warps of them side by side.
  }];
  let parameters = (ins StringRefParameter<>:$arch, "int64_t":$threads, "int64_t":$productWarps,
                        "int64_t":$productRows, "int64_t":$productVector, "int64_t":$decodeSplits,
                        "int64_t":$mmaMinRows, "int64_t":$mmaWarpRows, "int64_t":$mmaWarpCols);
  let assemblyFormat = [{
    `<` `arch` `=` $arch `,` `threads` `=` $threads `,` `product_warps` `=` $productWarps `,`
        `product_rows` `=` $productRows `,` `product_vector` `=` $productVector `,`
        `decode_splits` `=` $decodeSplits `,` `mma_min_rows` `=` $mmaMinRows `,`
        `mma_warp_rows` `=` $mmaWarpRows `,` `mma_warp_cols` `=` $mmaWarpCols `>`
  }];
  let genVerifyDecl = 1;
}

#endif // Q3_DIALECT_TD
