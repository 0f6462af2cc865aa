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

def AddLogitsFreePrefill : Pass<"q3-add-logits-free-prefill", "mlir::ModuleOp"> {
  let summary = "logits-free prefill entries: @prefill_nologits beside @prefill, and the prompt-only chunks";
  let description = [{
    A prompt needs logits only for its last token (unless they are dumped),
    yet a prefill entry computes the LM head for every row of its chunk: on
    the 0.6B that is a quarter of the prefill FLOPs. This pass clones
    @prefill as @prefill_nologits returning only the KV caches, and removes
    what then feeds nothing (the final norm and the LM head). An entry
    marked `q3.prompt_only` (the graph builder's larger prompt chunks,
    @prefill_<T>) is replaced by its logits-free form @prefill_<T>_nologits
    rather than kept beside it: nothing reads its logits. The runtime runs a
    prompt's tokens but the last through these, and the last one through
    @decode, unless logits are dumped. Runs after the fusion passes, so
    fusion reports and pictures show the model as built. Beside each
    logits-free entry it adds a `_last` twin (@prefill_last,
    @prefill_<T>_last) taking one more index argument, a row, and returning
    that row's logits alone ([1, V]): the LM head over a one-row slice. A
    prompt's last chunk runs there, so its last token needs no @decode call
    (one more pass over all the weights).
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}
def SetTarget : Pass<"q3-set-target", "mlir::ModuleOp"> {
  let summary = "record the CPU being compiled for (#q3.target) for the strategy passes";
  let description = [{
    Describes `cpu` (an LLVM CPU name, or `host`: this machine with its
    features) plus `features` (LLVM's "+avx512bf16,-amx-tile" form) as
    `q3.target = #q3.target<...>` on the module: vector width and register
    count, the x86 features the code may use, the L2 size on the host. The
    strategy passes read it and nothing else chooses from the target; a lit
    test pins a target by writing the attribute by hand instead.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"host\"", "LLVM CPU name, or host">,
    Option<"features", "features", "std::string", /*default=*/"\"\"",
           "extra LLVM target features (+avx512bf16,-amx-tile)">,
  ];
}

def ChooseWeightLayouts : Pass<"q3-choose-weight-layouts", "mlir::ModuleOp"> {
  let summary = "strategy: pick the packed layout each weight is stored in";
  let description = [{
    Marks a 2-D weight (a q3.weight or a stacked q3.concat) read only by
    linears (q3.linear, q3.linear_residual, q3.linear_split whose parts are
    multiples of 16 rows) or q3.embedding, with rows a multiple of 16, with
    `q3.layout = #q3.layout<k16>`: blocks of 16 rows stored column by column,
    Wp[n / 16][k][n % 16], so a matrix-vector product streams one contiguous
    block and writes 16 outputs per vector register with no horizontal
    reduction. A stacked [gate; up] read by q3.linear_swiglu gets
    `#q3.layout<k16_gated>`: gate block j and up block j stored next to each other, so
    the SwiGLU epilogue finds both halves in one register tile. Everything
    else keeps the checkpoint's row layout. Writing the
    attribute by hand pins a layout in a lit test. Where prefill products
    use a bf16 pair dot (`dot`, see q3-choose-lowering-config), bf16 weights
    with an even k are `k16_pairs` / `k16_gated_pairs` instead (consecutive
    k paired, the operand order of vdpbf16ps; decode's FMA kernels read it
    too). Stacked experts [E, N, K] whose gate, up and down all have whole
    blocks are `k16` per expert (`k16_pairs` under a bf16 pair dot). Where quantised weights use an int8 dot
    (`int8-dot`), k16_q8 / k16_q4 weights (gated or not, stacked experts
    too) are their quads forms instead (`k16_q8_quads`, `k16_q4_quads`,
    ...: each output's consecutive k in quads, vpdpbusd's operand order).
  }];
  let options = [
    Option<"dot", "dot", "std::string", /*default=*/"\"auto\"",
           "prefill products' arithmetic: auto (amx where the target has AMX-BF16, else bf16 where it has "
           "AVX512-BF16, else fma), fma, bf16, bf16-emulated, amx, amx-emulated">,
    Option<"weights", "weights", "std::string", /*default=*/"\"bf16\"",
           "bf16 (the weights as the checkpoint has them), int8 or int4: the layers' k16 weights with k a "
           "multiple of 32 become k16_q8 / k16_gated_q8 (Q8_0) or k16_q4 / k16_gated_q4 (Q4_0); the "
           "embedding, the LM head and the experts stay">,
    Option<"lmHead", "lm-head", "std::string", /*default=*/"\"bf16\"",
           "int8 or int4 also makes the LM head k16_q8 or k16_q4 (and a tied embedding with it)">,
    Option<"int8DotOption", "int8-dot", "std::string", /*default=*/"\"auto\"",
           "int8 weights' arithmetic: auto (i8 where the target has AVX512-VNNI with 512-bit vectors, else "
           "i8-madd where it has AVX2 with 256-bit vectors, else fma), fma (k16_q8 / k16_q4, widened to f32), i8 (their quads, int8 "
           "activations, vpdpbusd), i8-madd (the same integers by AVX2's vpmaddubsw + vpmaddwd), i8-emulated">,
  ];
}

def ChooseLoweringConfig : Pass<"q3-choose-lowering-config", "mlir::ModuleOp"> {
  let summary = "strategy: the register tile, vector width and prefetch of each product, for the target";
  let description = [{
    Reads the module's #q3.target (q3-set-target) and writes
    `q3.lowering_config = #q3.lowering_config<...>` on each product whose
    weight is k16-packed (q3.linear and the fused linears): vectors as wide
    as the target's (16 f32 lanes with AVX-512, 8 with AVX2), and the
    largest register tile whose accumulators, broadcasts and a weight vector
    fit its vector registers (AVX-512: 4 rows x 4 blocks; AVX2: 4 rows x 1
    block, 8 ymm accumulators), with fewer blocks when an output part or a
    gated pair needs it; one row and a 64-step prefetch at decode; a folded
    norm staged for several rows. q3-lower-to-loops builds exactly that and
    refuses a k16 product without a config; a config written by hand is
    kept and pins the kernel in a lit test (passes/LoweringConfig.h). Run
    after q3-choose-weight-layouts, with the same `dot`: products of several
    rows on paired weights get that arithmetic (`dot = bf16`: vdpbf16ps on
    activations rounded to bf16; `bf16-emulated`: the same by FMAs, any
    target; `amx`: AMX-BF16 tiles for products of 16 rows or more with k a
    multiple of 32, f32 FMA for the others; `amx-emulated`: the same tile
    loops by FMAs). Decode (one row) on paired weights takes a bf16 pair
    `dot` too unless `decode-dot=fma` (where the target streams without
    software prefetch, one block per work item: a single weight stream),
    and stays f32 FMA under the other families. Products on quads weights
    take the int8 dot (`int8-dot`: i8, vpdpbusd on activations quantised to
    int8 per row and group of 32; i8-madd, the same integers by AVX2's
    vpmaddubsw + vpmaddwd in 8-lane halves of each block; i8-emulated, by
    plain vector ops) at decode and prefill, 16-lane vectors (i8-madd: 8),
    except products of AMX size under an AMX `dot`. A q3.moe_experts on k16 experts gets
    q3.gate_up_config and q3.down_config; grouped by expert (a prompt chunk)
    on paired experts, both take a bf16 pair `dot` (not an AMX one), and
    one token at a time (decode) too unless `decode-dot=fma`.
  }];
  let options = [
    Option<"dot", "dot", "std::string", /*default=*/"\"auto\"",
           "prefill products' arithmetic: auto (amx where the target has AMX-BF16, else bf16 where it has "
           "AVX512-BF16, else fma), fma, bf16, bf16-emulated, amx, amx-emulated">,
    Option<"int8DotOption", "int8-dot", "std::string", /*default=*/"\"auto\"",
           "int8 weights' arithmetic: auto (i8 where the target has AVX512-VNNI with 512-bit vectors, else "
           "i8-madd where it has AVX2 with 256-bit vectors, else fma), fma (k16_q8 / k16_q4, widened to f32), i8 (their quads, int8 "
           "activations, vpdpbusd), i8-madd (the same integers by AVX2's vpmaddubsw + vpmaddwd), i8-emulated">,
    Option<"decodeDotOption", "decode-dot", "std::string", /*default=*/"\"auto\"",
           "one-row (decode) products on paired bf16 weights: auto (the prefill family where it is bf16 or "
           "bf16-emulated: activations rounded to bf16), fma (exact f32 activations)">,
  ];
}

def KernelLocations : Pass<"q3-kernel-locations", "mlir::ModuleOp"> {
  let summary = "number the kernels: each q3 op's location names its kernel and the blocks it computes";
  let description = [{
    Gives each q3 op that becomes a kernel (all but q3.weight and q3.concat)
    the location `fused<[block names]>["q3.kernels":N:0]`, N counting from 1
    through the module: the block names are the Hugging Face module paths
    the graph builder and the fusions left on the op. The lowering builds a
    kernel's loops at its op's location, so N reaches the loop nest, the
    LLVM IR and, with a line table, the machine code (`qwen3c explain`).
    Changes no op.
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
    becomes a loop nest built with scf/vector/math ops; a k16 product is
    built as its #q3.lowering_config says (none is an error: the lowering
    does not choose).
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect", "mlir::math::MathDialect",
                           "mlir::arith::ArithDialect", "mlir::x86vector::X86VectorDialect",
                           "mlir::amx::AMXDialect", "mlir::LLVM::LLVMDialect"];
}

def ChooseGpuLaunch : Pass<"q3-choose-gpu-launch", "mlir::ModuleOp"> {
  let summary = "choose the GPU kernel families' launch shapes (#q3.gpu_launch)";
  let description = [{
    The CUDA target's strategy: writes `q3.gpu_launch = #q3.gpu_launch<...>`
    on the module for `gpu-arch`, what q3-lower-to-gpu builds every kernel
    with (it chooses nothing itself). Today every arch gets the same shapes,
    except that before sm_80 no product runs on the tensor cores
    (mma_min_rows = 0); none has been tuned on a device yet. A module that
    already has a config keeps it.
  }];
  let options = [Option<"gpuArch", "gpu-arch", "std::string", "\"sm_90\"", "NVIDIA arch (sm_NN)">];
}

def LowerToGpu : Pass<"q3-lower-to-gpu", "mlir::ModuleOp"> {
  let summary = "lower q3 entry points to host code that launches CUDA kernels (gpu.launch)";
  let description = [{
    The CUDA target's counterpart of q3-lower-to-loops: the same buffers
    (FunctionLowering: caches in place, one arena, weight views of the
    blob), each q3 op one or more `gpu.launch` regions of its kernel family
    (GpuKernelEmitter: a warp per product column, a block per norm row,
    per (head, token) for RoPE and attention, a thread per token for the
    MoE router and a warp per column of each selection for the experts, a
    thread per element otherwise). Copies are kernels too; the host code
    never reads device
    memory but @decode_batch's positions (a host argument). The launch
    shapes come from the module's #q3.gpu_launch (none is an error). Weights must be
    in the row layout (no q3-choose-weight-layouts); quantised weights and
    int8 or key-blocked caches are errors naming the op.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect", "mlir::arith::ArithDialect",
                           "mlir::gpu::GPUDialect", "mlir::LLVM::LLVMDialect", "mlir::NVVM::NVVMDialect"];
}

def MergeGpuModules : Pass<"q3-merge-gpu-modules", "mlir::ModuleOp"> {
  let summary = "move every outlined kernel into one gpu.module (one PTX module to load)";
  let description = [{
    After gpu-kernel-outlining, which makes one gpu.module per launch: the
    kernels and one copy of each global they share go into `q3_kernels`,
    and every gpu.launch_func is pointed at it. A model then carries one
    PTX text that the driver JIT-compiles and loads once.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect"];
}

def ApproximateMath : Pass<"q3-approximate-math", "mlir::ModuleOp"> {
  let summary = "replace math.exp with a polynomial (no libm call per lane)";
  let description = [{
    LLVM scalarises a vector exp into one libm call per lane; MLIR's
    polynomial approximation keeps it in registers (max rel. error ~1e-7).
  }];
  let dependentDialects = ["mlir::vector::VectorDialect", "mlir::arith::ArithDialect"];
}

def PlanArena : Pass<"q3-plan-arena", "mlir::ModuleOp"> {
  let summary = "memory planning: pack the arena's buffers by liveness";
  let description = [{
    Runs after q3-lower-to-loops, which gives every buffer its own arena
    slice (a memref.view of the entry point's last argument at a constant
    offset). Each slice lives from its view to its last use (through views
    of it), a use inside a loop or branch counting as that whole op in the
    slice's block; slices whose lives do not overlap share bytes (first fit,
    64-byte aligned). Sets `q3.arena_bytes` to the planned size and
    `q3.arena_bytes_unplanned` to the size without reuse.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::memref::MemRefDialect"];
}

def SliceableParallelRegions : Pass<"q3-sliceable-parallel-regions", "mlir::ModuleOp"> {
  let summary = "check that each OpenMP region can run as slices, and drop its barrier";
  let description = [{
    Runs after convert-scf-to-openmp. The runtime's pool (runtime/ThreadPool.cpp)
    runs a parallel region as slices, one microtask call each, claimed by
    whichever thread is free, so a busy machine's descheduled thread holds up
    no work it has not started. That is only correct when a region is one
    statically scheduled loop with no reduction: the region's end is then the
    only synchronisation. The pass checks exactly that (an error names the
    region otherwise) and marks the loop `nowait`, since a barrier between
    slices run one after another on one thread could never be met.
  }];
  let dependentDialects = ["mlir::omp::OpenMPDialect"];
}

def ProfileKernels : Pass<"q3-profile-kernels", "mlir::ModuleOp"> {
  let summary = "time each kernel: calls to the runtime's profiler around the ops lowered from it";
  let description = [{
    Runs last in the q3 pipeline (`qwen3c build --profile-kernels`). In each
    block of every function (the layer loop's body included), a run of ops
    lowered from kernel N (q3-kernel-locations' number) is bracketed by
    `func.call @qwen3c_profile_begin(N)` and `@qwen3c_profile_end(N)`; pure
    ops without regions (constants, views, index arithmetic) neither open nor
    close a run, so a kernel hoisted constant costs no call. A kernel's
    parallel region ends when its threads do, so the bracket is its wall
    time. The module gets `q3.kernel_profile`: entry N is "function<TAB>block
    names" of kernel N, which the object carries for the runtime's table.
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::arith::ArithDialect"];
}

def HoistParallelScratch : Pass<"q3-hoist-parallel-scratch", "mlir::ModuleOp"> {
  let summary = "move a parallel loop body's fixed-size stack scratch to the start of its region";
  let description = [{
    Runs after convert-scf-to-openmp, which wraps each iteration of a
    parallel loop in a memref.alloca_scope. A kernel's per-iteration scratch
    (an AMX product's f32 accumulator buffer) is a memref.alloca of static
    shape inside that scope; left there it would be allocated and freed per
    iteration and, once scf-to-cf splits the scope's body into blocks, not
    lower at all. The pass moves every such alloca to the start of the
    enclosing omp.parallel region, which the runtime calls once per slice on
    one thread: the buffer stays private to the thread that uses it, now
    allocated once per slice. Legal because an alloca's contents are
    undefined on entry, so no iteration can rely on a fresh one; the
    canonicalizer then inlines the emptied scopes.
  }];
  let dependentDialects = ["mlir::omp::OpenMPDialect", "mlir::memref::MemRefDialect"];
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

//===----------------------------------------------------------------------===//
// Fusion passes (q3 -> q3). Each one is switchable; passes/FusionPipeline
// groups them into the levels of `qwen3c build --fusion=none|basic|all`.
// The fused ops are defined as the ops they replace, so the eager
// interpreter is the oracle for each (tests/lit/passes/fuse-*.mlir).
//===----------------------------------------------------------------------===//

def FuseResidualAdd : Pass<"q3-fuse-residual-add", "mlir::ModuleOp"> {
  let summary = "q3.add of a q3.linear's result -> q3.linear_residual (add as epilogue)";
  let description = [{
    The o_proj and down_proj products are added to the residual stream as
    they leave the registers: one kernel and one [T, hidden] round trip
    through memory fewer per fusion. Fires when the linear has no other use.
  }];
}

def FuseQKNormRope : Pass<"q3-fuse-qk-norm-rope", "mlir::ModuleOp"> {
  let summary = "q3.rms_norm + q3.rope (+ q3.kv_write) -> q3.norm_rope(_write)";
  let description = [{
    QK-norm and the rotary embedding become one pass over each head; when
    the rotated rows only go into the KV cache (the keys), the cache write
    joins them (q3.norm_rope_write). Three kernels become one for the keys,
    two become one for the queries.
  }];
}

def FuseAttentionSoftmax : Pass<"q3-fuse-attention-softmax", "mlir::ModuleOp"> {
  let summary = "attention with an online softmax: no score rows in memory";
  let description = [{
    Marks each q3.attention `online_softmax`: the kernel keeps a running
    maximum and sum per query head and rescales its output accumulators
    (flash-attention style) instead of writing, re-reading and normalising
    a row of scores.
  }];
}

def FuseGateUpSwiGLU : Pass<"q3-fuse-gate-up-swiglu", "mlir::ModuleOp"> {
  let summary = "q3.swiglu of two q3.linear of one input -> q3.linear_swiglu";
  let description = [{
    The gate and up projections become one product over the row
    concatenation of their weights (q3.concat), with SiLU(gate) * up as the
    epilogue: the input is read once, one kernel instead of three, and the
    two [T, inter] halves are never written.
  }];
}

def FuseQKV : Pass<"q3-fuse-qkv", "mlir::ModuleOp"> {
  let summary = "sibling q3.linear ops of one input -> one q3.linear_split (QKV)";
  let description = [{
    Linears that read the same input (Q, K and V) become one product over
    the row concatenation of their weights, one result per original linear:
    the input is read once and one parallel kernel streams all the weights.
  }];
}

def FuseMoEGrouping : Pass<"q3-fuse-moe-grouping", "mlir::ModuleOp"> {
  let summary = "MoE prefill grouped by expert: each expert's weights read once per chunk";
  let description = [{
    Marks each q3.moe_experts of more than one token `group_by_expert`: the
    kernel gathers, per expert, the chunk's tokens that selected it, and
    runs gate/up/SwiGLU then down over that group with each weight row
    reused from cache for every token of the group, instead of streaming the
    expert once per (token, selection). Decode (one token) is unchanged.
  }];
}

def FuseRMSNorm : Pass<"q3-fuse-rms-norm", "mlir::ModuleOp"> {
  let summary = "q3.rms_norm folded into the linears that consume it (normalise on load)";
  let description = [{
    When every user of an RMSNorm is a linear (as input), each gets the norm
    as its `norm` operand: the kernel computes each row's 1/rms in a short
    prologue and applies weight and scale as it loads the input, so the
    normalised rows are never written. A plain q3.linear becomes a
    single-result q3.linear_split. Run after the sibling fusions, so the
    norm is folded into one fused product rather than recomputed per linear.
  }];
}

#endif
