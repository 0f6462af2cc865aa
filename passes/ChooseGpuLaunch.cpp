//===- ChooseGpuLaunch.cpp - q3-choose-gpu-launch ---------------------------===//
//
// The CUDA target's strategy, the one place its launch shapes are chosen:
// `q3.gpu_launch` on the module, which q3-lower-to-gpu reads. The shapes
// are the same for every arch until a device run tunes them: 256-thread
// blocks, 4 warps (columns) per product block sharing each weight load
// with up to 8 rows, 16-byte lane loads, 32 key ranges per decode head;
// products of 16 rows or more on the tensor cores from sm_80 (bf16 mma),
// a warp computing 32 x 32 outputs.
// A module that already carries one (a test pinning a shape) keeps it.
//
//===----------------------------------------------------------------------===//
#include "passes/GpuKernelEmitter.h"
#include "passes/Passes.h"

namespace q3 {
#define GEN_PASS_DEF_CHOOSEGPULAUNCH
#include "passes/Passes.h.inc"

namespace {

struct ChooseGpuLaunchPass : impl::ChooseGpuLaunchBase<ChooseGpuLaunchPass> {
  using ChooseGpuLaunchBase::ChooseGpuLaunchBase;
  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    if (module->hasAttrOfType<GpuLaunchAttr>(kGpuLaunchAttrName)) return; // a pinned config stays
    GpuLaunchShapes shapes; // the defaults
    // Before sm_80 there is no bf16 mma: every product stays on the CUDA cores.
    if (std::optional<unsigned> sm = nvidiaArchNumber(gpuArch); sm && *sm < 80) shapes.mmaMinRows = 0;
    auto emitError = [&] { return module.emitError("q3-choose-gpu-launch: "); };
    GpuLaunchAttr launch = shapes.attr(emitError, module.getContext(), gpuArch);
    if (!launch) return signalPassFailure();
    module->setAttr(kGpuLaunchAttrName, launch);
  }
};

} // namespace
} // namespace q3
