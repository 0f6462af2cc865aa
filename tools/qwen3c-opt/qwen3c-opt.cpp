//===- qwen3c-opt.cpp - run q3 passes on .mlir files ------------------------===//
//
// Registers the q3 dialect and only the upstream dialects and passes that
// qwen3c's pipelines use, so `qwen3c-opt --help` stays readable.
//
//===----------------------------------------------------------------------===//
#include "codegen/CpuPipeline.h"
#include "codegen/GpuPipeline.h"
#include "dialect/Q3Dialect.h"
#include "passes/FusionPipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<q3::Q3Dialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect,
                  mlir::memref::MemRefDialect, mlir::vector::VectorDialect,
                  mlir::math::MathDialect, mlir::omp::OpenMPDialect, mlir::gpu::GPUDialect,
                  mlir::LLVM::LLVMDialect>();
  mlir::func::registerInlinerExtension(registry);
  q3::registerQ3Passes();
  q3::registerFusionPipeline();
  q3c::registerQ3CpuPipeline();
  q3c::registerQ3GpuPipeline();
  // Generic clean-up passes our pipelines run between q3 rewrites.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerInlinerPass();
  mlir::registerSymbolDCEPass();
  mlir::registerConvertSCFToOpenMPPass(); // what q3-sliceable-parallel-regions runs after
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qwen3c optimizer driver\n", registry));
}
