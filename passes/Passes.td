//===- Passes.td - qwen3c passes ---------------------------*- tablegen -*-===//
#ifndef QWEN3C_PASSES_TD
#define QWEN3C_PASSES_TD

include "mlir/Pass/PassBase.td"

def PlanWeights : Pass<"q3-plan-weights", "mlir::ModuleOp"> {
  let summary = "lay out every q3.weight in the packed weight blob";
  let description = [{
    Gives each distinct weight name pattern a slot (`q3.slot` on the op) and
    every (slot, layer) instance a 64-byte aligned byte offset in one blob,
    recorded in the module's `q3.weight_plan`. Layers get a weight only if
    their kind (`q3.layer_kind` of the function using it) needs it. The
    weight packer writes the blob from the same plan. Run before inlining.
  }];
}

def ChooseWeightLayouts : Pass<"q3-choose-weight-layouts", "mlir::ModuleOp"> {
  let summary = "strategy: pick the packed layout each weight is stored in";
  let description = [{
    Marks a 2-D weight read only by q3.linear (as its weight) or
    q3.embedding (as its table), with rows a multiple of 16, with
    `q3.layout = "k16"`: blocks of 16 rows stored column by column,
    Wp[n / 16][k][n % 16], so a matrix-vector product streams one contiguous
    block and writes 16 outputs per vector register with no horizontal
    reduction. Everything else keeps the checkpoint's row layout. Writing the
    attribute by hand pins a layout in a lit test.
  }];
}

def LowerToLoops : Pass<"q3-lower-to-loops", "mlir::ModuleOp"> {
  let summary = "lower q3 entry points to loops and vectors on memrefs";
  let description = [{
    Rewrites each public entry function (layer functions already inlined)
    into destination-passing form on memrefs: the KV caches are updated in
    place, logits go to an out-parameter, every other tensor lives at a
    compiler-assigned offset of one arena (`q3.arena_bytes`), weights are
    views of the packed blob at the offsets of `q3.weight_plan`. Each q3 op
    becomes a loop nest built with scf/vector/math ops.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect", "mlir::math::MathDialect",
                           "mlir::arith::ArithDialect"];
}

def ApproximateMath : Pass<"q3-approximate-math", "mlir::ModuleOp"> {
  let summary = "replace math.exp with a polynomial (no libm call per lane)";
  let description = [{
    LLVM scalarises a vector exp into one libm call per lane; MLIR's
    polynomial approximation keeps it in registers (max rel. error ~1e-7).
  }];
  let dependentDialects = ["mlir::vector::VectorDialect", "mlir::arith::ArithDialect"];
}

def FusionReport : Pass<"q3-fusion-report", "mlir::ModuleOp"> {
  let summary = "print kernels, activation and weight bytes and FLOPs per layer and token";
  let description = [{
    An analysis that leaves the IR unchanged: for each layer function (by
    `q3.layer_kind`) and each entry function's ops outside the layer loop,
    per token, the number of q3 kernels and the bytes and FLOPs they move,
    computed from the operand and result types by passes/CostModel. Run it
    before and after a fusion pass to see what the fusion buys. Attention is
    costed at KV position `position`.
  }];
  let options = [Option<"position", "position", "int64_t", "0",
                        "KV-cache position the attention costs are taken at">];
}

#endif
