//===- TargetInfo.cpp -------------------------------------------------------===//
#include "passes/TargetInfo.h"
#include "runtime/CpuFeatures.h"

#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unistd.h>

using namespace mlir;

namespace q3 {

namespace {

// Whether `sti`'s target has a feature of that name: MCSubtargetInfo's
// checkFeatures aborts on one it does not know.
bool knowsFeature(const llvm::MCSubtargetInfo &sti, llvm::StringRef name) {
  for (const auto &kv : sti.getAllProcessorFeatures())
    if (name == kv.Key) return true;
  return false;
}

} // namespace

bool TargetInfo::has(const std::string &feature) const {
  return std::find(features.begin(), features.end(), feature) != features.end();
}

bool TargetInfo::prefetchesStreams() const {
  // AMD Zen 4: its hardware prefetchers alone stream faster. Measured on a
  // 2-vCPU EPYC (session 18, alternating builds of the 0.6B): decode 12.5-16.0
  // -> 18.5-19.5 tokens/s at 1 thread and 18.2-23.7 -> 23.1-24.3 at 2 without
  // them (int8 and int4 alike); the LM head in qwen3c-kernel-bench 17 -> 25
  // GB/s. The CPUs measured before gained from them: +~10% tokens/s where
  // they were introduced, +4-50% on Zen 3 for four batched server rows.
  // Others (Zen 5, the Intel hosts) keep them until measured without.
  return cpu != "znver4";
}

TargetInfo TargetInfo::fromLLVM(const std::string &cpuName, const std::string &extraFeatures) {
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target) throw std::runtime_error("no LLVM target for " + triple.str() + ": " + err);
  bool host = cpuName == "host";
  std::string cpu = host ? llvm::sys::getHostCPUName().str() : cpuName;
  std::string fs;
  if (host)
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      fs += (fs.empty() ? "" : ",") + std::string(f.second ? "+" : "-") + f.first().str();
  if (!extraFeatures.empty()) fs += (fs.empty() ? "" : ",") + extraFeatures;
  // Asked of a generic subtarget first: LLVM warns on stderr when it is
  // given an unknown CPU, and the error below says it better.
  std::unique_ptr<const llvm::MCSubtargetInfo> generic(target->createMCSubtargetInfo(triple, "", ""));
  if (generic) // each extra feature must be one LLVM knows (it would only warn and ignore it)
    for (llvm::StringRef f : llvm::split(llvm::StringRef(extraFeatures), ',')) {
      f = f.trim();
      if (f.empty()) continue;
      if ((f[0] != '+' && f[0] != '-') || !knowsFeature(*generic, f.drop_front()))
        throw std::runtime_error("--target-features: '" + f.str() +
                                 "' is not +FEATURE or -FEATURE with an x86 feature LLVM knows (e.g. +avx512bf16)");
    }
  std::unique_ptr<const llvm::MCSubtargetInfo> sti;
  if (generic && generic->isCPUStringValid(cpu)) sti.reset(target->createMCSubtargetInfo(triple, cpu, fs));
  if (!sti)
    throw std::runtime_error("--target-cpu: '" + cpuName + "' is not an x86-64 CPU LLVM knows (try host, "
                             "x86-64-v3, x86-64-v4, znver4, sapphirerapids)");
  TargetInfo t;
  t.cpu = cpu;
  t.llvmFeatures = fs;
  for (const auto &name : qwen3c_rt::checkableCpuFeatures())
    if (knowsFeature(*sti, name) && sti->checkFeatures("+" + name)) t.features.push_back(name);
  bool avx512 = t.has("avx512f");
  t.vectorBits = avx512 ? 512 : t.has("avx") ? 256 : 128;
  t.vectorRegisters = avx512 ? 32 : 16;
  if (host) {
    long l2 = ::sysconf(_SC_LEVEL2_CACHE_SIZE);
    t.l2Bytes = l2 > 0 ? l2 : 0;
  }
  return t;
}

FailureOr<TargetInfo> TargetInfo::fromModule(ModuleOp module) {
  auto attr = module->getAttrOfType<TargetAttr>(kTargetAttrName);
  if (!attr) {
    module.emitError("the strategy needs the target: no q3.target on the module (run q3-set-target first)");
    return failure();
  }
  return fromAttr(attr);
}

TargetAttr TargetInfo::toAttr(MLIRContext *ctx) const {
  return TargetAttr::get(ctx, cpu, vectorBits, vectorRegisters, l2Bytes, llvm::join(features, ","));
}

TargetInfo TargetInfo::fromAttr(TargetAttr attr) {
  TargetInfo t;
  t.cpu = attr.getCpu().str();
  t.vectorBits = attr.getVectorBits();
  t.vectorRegisters = attr.getVectorRegisters();
  t.l2Bytes = attr.getL2Bytes();
  llvm::SmallVector<llvm::StringRef> parts;
  attr.getFeatures().split(parts, ',', -1, /*KeepEmpty=*/false);
  for (auto p : parts) t.features.push_back(p.str());
  return t;
}

} // namespace q3
