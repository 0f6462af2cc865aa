//===- GpuPipeline.cpp - q3 to a host object with embedded PTX -------------===//
#include "codegen/GpuPipeline.h"
#include "codegen/CpuPipeline.h" // applyIRDump
#include "dialect/Q3Dialect.h"  // nvidiaArchNumber
#include "frontend/Error.h"
#include "passes/FusionPipeline.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Transforms/Passes.h"


using namespace mlir;

namespace q3c {

void checkGpuTarget(const GpuTarget &target) {
  const std::optional<unsigned> sm = q3::nvidiaArchNumber(target.arch);
  if (!sm || *sm < 70)
    fail("--gpu-arch: '", target.arch, "' is not an NVIDIA arch sm_70 or later (sm_80, sm_90, ...)");
}

void addQ3GpuPipeline(OpPassManager &pm, const std::vector<std::string> &fusionPasses, const GpuTarget &target) {
  q3::addFusionPasses(pm, fusionPasses);
  pm.addPass(q3::createAddLogitsFreePrefill());
  // No layout strategy: the GPU kernels read the checkpoint's row layout.
  pm.addPass(q3::createPlanWeights());
  pm.addPass(createInlinerPass());
  pm.addPass(createSymbolDCEPass());
  pm.addPass(q3::createKernelLocations());
  pm.addPass(q3::createChooseGpuLaunch(q3::ChooseGpuLaunchOptions{target.arch}));
  pm.addPass(q3::createLowerToGpu());
  pm.addPass(q3::createPlanArena());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

LogicalResult runQ3GpuLowering(ModuleOp module, const std::vector<std::string> &fusionPasses, const GpuTarget &target) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  func::registerInlinerExtension(registry);
  ctx->appendDialectRegistry(registry);
  PassManager pm(ctx);
  addQ3GpuPipeline(pm, fusionPasses, target);
  applyIRDump(pm);
  if (failed(pm.run(module))) return failure();
  module->setAttr("q3.device", StringAttr::get(ctx, "cuda:" + target.arch));
  return success();
}

void registerQ3GpuPipeline() {
  struct Options : PassPipelineOptions<Options> {
    Option<std::string> fusion{*this, "fusion", llvm::cl::desc("fusion level: none, basic or all"),
                               llvm::cl::init("all")};
    Option<std::string> arch{*this, "gpu-arch", llvm::cl::desc("NVIDIA arch (sm_90)"), llvm::cl::init("sm_90")};
  };
  PassPipelineRegistration<Options>(
      "q3-gpu-pipeline",
      "what `qwen3c build --target cuda` runs on the q3 module before the NVVM path: fusion, weight plan, "
      "inlining, lowering to gpu.launch kernels, arena planning",
      [](OpPassManager &pm, const Options &o) {
        q3::FusionOptions fusion;
        fusion.level = o.fusion;
        std::string error;
        std::vector<std::string> passes = q3::selectFusionPasses(fusion, error);
        if (!error.empty()) {
          llvm::errs() << "q3-gpu-pipeline: " << error << "\n";
          std::exit(1);
        }
        addQ3GpuPipeline(pm, passes, GpuTarget{o.arch});
      });
}

LogicalResult runGpuLLVMLowering(ModuleOp module, const GpuTarget &target) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  // The NVVM pipeline's conversions find each dialect's patterns through its
  // ConvertToLLVMPatternInterface (cf, arith, memref, vector, gpu, ...), as
  // mlir-opt registers them.
  registerAllExtensions(registry);
  // gpu-module-to-binary translates each kernel module to LLVM IR for NVPTX.
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  PassManager pm(ctx);
  // MLIR's own NVVM pipeline: outlining, nvvm-attach-target, the kernels to
  // NVVM, the host to LLVM with launches as mgpu* calls, gpu-module-to-binary.
  // The kernels call no libdevice function (GpuKernelEmitter uses NVVM
  // intrinsics), so no CUDA toolkit is looked for.
  // Outlined here, then merged into one module; the NVVM pipeline's own
  // outlining then finds no launch left.
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(q3::createMergeGpuModules());
  gpu::GPUToNVVMPipelineOptions options;
  options.cubinChip = target.arch;
  options.cubinFeatures = "+ptx" + std::to_string(target.ptxVersion);
  options.cubinFormat = "isa"; // PTX text, JIT-compiled by the driver at load
  options.optLevel = 3;
  gpu::buildLowerToNVVMPassPipeline(pm, options);
  applyIRDump(pm);
  return pm.run(module);
}

namespace {

int64_t launchesIn(Block &block) {
  int64_t n = 0;
  for (Operation &op : block) {
    if (llvm::isa<gpu::LaunchOp>(op)) {
      ++n;
    } else if (auto loop = llvm::dyn_cast<scf::ForOp>(op)) {
      auto lb = getConstantIntValue(loop.getLowerBound()), ub = getConstantIntValue(loop.getUpperBound());
      auto step = getConstantIntValue(loop.getStep());
      const int64_t trips = lb && ub && step && *step > 0 ? (*ub - *lb + *step - 1) / *step : 1;
      n += trips * launchesIn(*loop.getBody());
    } else if (auto branch = llvm::dyn_cast<scf::IfOp>(op)) {
      n += std::max(launchesIn(*branch.thenBlock()), branch.elseBlock() ? launchesIn(*branch.elseBlock()) : 0);
    }
  }
  return n;
}

} // namespace

int64_t gpuLaunchesPerCall(ModuleOp module, llvm::StringRef function) {
  auto fn = module.lookupSymbol<func::FuncOp>(function);
  return fn && !fn.isExternal() ? launchesIn(fn.getBody().front()) : 0;
}

std::string ptxOf(ModuleOp module) {
  std::string ptx;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute a : binary.getObjects())
      if (auto object = llvm::dyn_cast<gpu::ObjectAttr>(a)) ptx += object.getObject().getValue().str();
  });
  return ptx;
}

} // namespace q3c
