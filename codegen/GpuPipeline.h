//===- GpuPipeline.h - q3 to a host object with embedded PTX ----*- C++ -*-===//
//
// `qwen3c build --target cuda`: the fusion passes as for the CPU, the same
// weight plan, q3-lower-to-gpu instead of q3-lower-to-loops, the arena
// planned as for the CPU; then MLIR's NVVM path (kernel outlining,
// convert-gpu-to-nvvm, gpu-module-to-binary in the PTX format, all in
// process: no CUDA toolkit) and the host code to the LLVM dialect, its
// launches calls of the runtime's mgpu* functions (runtime/CudaDriver.cpp).
// emitObject then writes the host object with the PTX inside.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_CODEGEN_GPUPIPELINE_H
#define QWEN3C_CODEGEN_GPUPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace q3c {

struct GpuTarget {
  std::string arch = "sm_90"; // --gpu-arch: the PTX target (the driver JITs it for the device it runs on)
  int64_t ptxVersion = 80;    // PTX ISA 8.0: what sm_90 needs, CUDA 12.0's drivers and later
};

// Fails with a message for an arch that is not sm_NN (NN >= 70: warp-synchronous shuffles).
void checkGpuTarget(const GpuTarget &target);

// The q3 passes: fusion, logits-free prefill entries, weight plan (row
// layouts: no layout strategy), inlining, kernel numbers, q3-lower-to-gpu,
// q3-plan-arena. Leaves q3.weight_plan, q3.arena_bytes and q3.device.
void addQ3GpuPipeline(mlir::OpPassManager &pm, const std::vector<std::string> &fusionPasses, const GpuTarget &target);
mlir::LogicalResult runQ3GpuLowering(mlir::ModuleOp module, const std::vector<std::string> &fusionPasses,
                                     const GpuTarget &target);
// `qwen3c-opt --q3-gpu-pipeline="fusion=all gpu-arch=sm_90"`.
void registerQ3GpuPipeline();

// Kernels outlined and compiled to PTX (a gpu.binary), host code and
// launches to the LLVM dialect: what emitObject translates.
mlir::LogicalResult runGpuLLVMLowering(mlir::ModuleOp module, const GpuTarget &target);

// Kernel launches one call of `function` makes (after runQ3GpuLowering): a
// loop's launches times its trip count, a branch's larger arm (layer kinds).
int64_t gpuLaunchesPerCall(mlir::ModuleOp module, llvm::StringRef function);

// The PTX of every gpu.binary in the module (after runGpuLLVMLowering).
std::string ptxOf(mlir::ModuleOp module);

} // namespace q3c

#endif
