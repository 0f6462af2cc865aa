//===- MergeGpuModules.cpp - q3-merge-gpu-modules ---------------------------===//
//
// gpu-kernel-outlining gives every launch its own gpu.module; a model has a
// few hundred, and each would be a PTX module the driver JIT-compiles and
// loads on its own at start-up. This pass moves every kernel into one
// module, `q3_kernels` (one PTX text, one load), keeping one copy of each
// global the kernels share (the RoPE frequency tables), and points the
// launches at it. Each kernel is renamed after its module (outlining's
// unique name).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace q3 {
#define GEN_PASS_DEF_MERGEGPUMODULES
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

constexpr const char *kMergedModule = "q3_kernels";

struct MergeGpuModulesPass : impl::MergeGpuModulesBase<MergeGpuModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> parts(module.getOps<gpu::GPUModuleOp>());
    if (parts.empty()) return;
    if (module.lookupSymbol(kMergedModule)) {
      module.emitError("q3-merge-gpu-modules: a symbol is already named ") << kMergedModule;
      return signalPassFailure();
    }
    OpBuilder b(parts.front());
    auto merged = gpu::GPUModuleOp::create(b, parts.front().getLoc(), kMergedModule);
    Block &body = merged.getBodyRegion().front();
    llvm::StringMap<Operation *> symbols;
    // Outlining names modules uniquely but may give their kernels one name
    // (two launches in one function): a kernel takes its module's name.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp part : parts) {
      for (Operation &op : llvm::make_early_inc_range(part.getBodyRegion().front())) {
        auto name = op.getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
        if (!name) continue;
        if (llvm::isa<gpu::GPUFuncOp>(op)) {
          renamed[{part.getNameAttr(), name}] = part.getNameAttr();
          SymbolTable::setSymbolName(&op, part.getNameAttr());
          name = part.getNameAttr();
        }
        Operation *&seen = symbols[name.getValue()];
        if (seen) {
          // The same global twice (one table, outlined into two kernels'
          // modules); anything else of one name is a clash.
          if (!llvm::isa<gpu::GPUFuncOp>(op) && OperationEquivalence::isEquivalentTo(
                                                     &op, seen, OperationEquivalence::ignoreValueEquivalence, nullptr,
                                                     OperationEquivalence::IgnoreLocations))
            continue;
          op.emitError("q3-merge-gpu-modules: two different kernel symbols named ") << name;
          return signalPassFailure();
        }
        op.moveBefore(&body, body.end());
        seen = &op;
      }
    }
    // Launches: @<part>::@<kernel> becomes @q3_kernels::@<kernel>.
    module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr kernel = renamed.lookup({launch.getKernelModuleName(), launch.getKernelName()});
      launch.setKernelAttr(SymbolRefAttr::get(b.getStringAttr(kMergedModule), {FlatSymbolRefAttr::get(kernel)}));
    });
    for (gpu::GPUModuleOp part : parts) part.erase();
  }
};

} // namespace
} // namespace q3
