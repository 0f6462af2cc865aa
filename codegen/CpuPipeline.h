//===- CpuPipeline.h - q3 to an x86-64 object file --------------*- C++ -*-===//
#ifndef QWEN3C_CODEGEN_CPUPIPELINE_H
#define QWEN3C_CODEGEN_CPUPIPELINE_H

#include "passes/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <string>
#include <vector>

namespace q3c {

struct CpuTarget {
  std::string cpu = "host";  // or an LLVM CPU name (znver4, x86-64-v4, ...)
  std::string features;      // extra "+avx512f,-foo" on top of the CPU's
  // Prefill products' arithmetic (the strategy passes' `dot`): auto, fma,
  // bf16 (vdpbf16ps), amx (tdpbf16ps tiles), bf16-emulated or amx-emulated.
  std::string dot = "auto";
  // The layers' weights as stored: bf16 (as the checkpoint's dtype says) or
  // int8 (q3-choose-weight-layouts' `weights`).
  std::string weights = "bf16";
  std::string lmHead = "bf16"; // with weights int8: the LM head too (q3-choose-weight-layouts' `lm-head`)
  // int8 weights' arithmetic (the strategy passes' `int8-dot`): auto, fma,
  // i8 (vpdpbusd on int8 activations) or i8-emulated.
  std::string int8Dot = "auto";
  // Decode products on paired bf16 weights (the strategy's `decode-dot`):
  // auto (the bf16 pair family where prefill has it) or fma (exact f32).
  std::string decodeDot = "auto";
  // q3-profile-kernels last: each kernel timed by the runtime's profiler
  // (`qwen3c build --profile-kernels`, the executable's --profile).
  bool profileKernels = false;
};

// Where `qwen3c build --dump-ir-after` writes the IR: after the pass whose
// argument is `after` ("all": after every pass), one file per pass in a tree
// under `dir` (MLIR's file-tree printer: DIR/<op>/<index>_<pass>.mlir).
struct IRDump {
  std::string after, dir;
};
void setIRDump(const IRDump &dump);
// Adds the dump setIRDump asked for to a pass manager (the CPU's and the GPU's pipelines).
void applyIRDump(mlir::PassManager &pm);

// The target `target` names, as the strategy sees it (q3::TargetInfo);
// fails with a message for an unknown CPU, or a --prefill-dot / --int8-dot
// choice the CPU cannot run (or a --decode-dot that is not auto or fma).
q3::TargetInfo describeTarget(const CpuTarget &target);

// q3 passes: the fusion passes named (see passes/FusionPipeline.h), the
// target (q3-set-target), the strategy (layouts, lowering configs), weight
// planning, inlining the layer functions into the layer loop, lowering
// every op to loops on memrefs, OpenMP regions. Leaves q3.weight_plan and
// q3.arena_bytes on the module.
void addQ3CpuPipeline(mlir::OpPassManager &pm, const std::vector<std::string> &fusionPasses, const CpuTarget &target);
// Runs it; fails with diagnostics emitted.
mlir::LogicalResult runQ3Lowering(mlir::ModuleOp module, const std::vector<std::string> &fusionPasses,
                                  const CpuTarget &target);
// `qwen3c-opt --q3-cpu-pipeline="fusion=all target-cpu=x86-64-v3"`: the
// same passes from an .mlir file.
void registerQ3CpuPipeline();

// Only the fusion passes (for reports and graph pictures of a fusion level).
mlir::LogicalResult runFusion(mlir::ModuleOp module, const std::vector<std::string> &fusionPasses);

// Upstream conversions to the LLVM dialect. With `lineTables`, each function
// also gets a debug subprogram, so the object's line table carries the ops'
// file:line locations (q3-kernel-locations' kernel numbers).
mlir::LogicalResult runLLVMLowering(mlir::ModuleOp module, bool lineTables = false);

// Translates to LLVM IR, optimises at O3 for the target and writes an object
// that also defines `qwen3c_model_info` (the given values) and
// `qwen3c_target_cpu` / `qwen3c_target_features` (what the runtime checks). The weights are
// added by the linker (see Linker.h), so they never pass through memory here.
// With `asmPath`, also writes the same code as assembly there.
// `promptChunks` (increasing) names the logits-free prefill entries, the
// first @prefill_nologits and the others @prefill_<T>_nologits: they become
// `qwen3c_prompt_entries` (rows, function), the table the runtime plans a
// prompt's chunks from.
void emitObject(mlir::ModuleOp module, const std::vector<int64_t> &modelInfo,
                const std::vector<int64_t> &promptChunks, const q3::TargetInfo &target, const std::string &objectPath, const std::string &asmPath = "");

// The module (in the LLVM dialect) translated and optimised as emitObject
// does, as assembly text with LLVM's comments (loop headers, spills).
std::string emitAssembly(mlir::ModuleOp module, const q3::TargetInfo &target);

} // namespace q3c

#endif
