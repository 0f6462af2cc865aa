//===- FusionPipeline.cpp ---------------------------------------------------===//
#include "passes/FusionPipeline.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"

#include <algorithm>
#include <functional>

namespace q3 {
namespace {

struct FusionPass {
  std::string name;
  bool basic; // part of --fusion=basic (else only of all)
  std::function<std::unique_ptr<mlir::Pass>()> create;
};

// Pipeline order: the sibling fusions before the norm folding (so a norm is
// folded into one stacked product, not recomputed per linear).
const std::vector<FusionPass> &fusionPasses() {
  static const std::vector<FusionPass> passes = {
      {"q3-fuse-gate-up-swiglu", false, [] { return createFuseGateUpSwiGLU(); }},
      {"q3-fuse-qkv", false, [] { return createFuseQKV(); }},
      {"q3-fuse-rms-norm", false, [] { return createFuseRMSNorm(); }},
      {"q3-fuse-residual-add", true, [] { return createFuseResidualAdd(); }},
      {"q3-fuse-qk-norm-rope", true, [] { return createFuseQKNormRope(); }},
      {"q3-fuse-attention-softmax", true, [] { return createFuseAttentionSoftmax(); }},
      {"q3-fuse-moe-grouping", true, [] { return createFuseMoEGrouping(); }},
  };
  return passes;
}

std::string joined(const std::vector<std::string> &names) {
  std::string s;
  for (const auto &n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

} // namespace

const std::vector<std::string> &fusionPassNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto &p : fusionPasses()) n.push_back(p.name);
    return n;
  }();
  return names;
}

std::vector<std::string> selectFusionPasses(const FusionOptions &o, std::string &error) {
  if (o.level != "none" && o.level != "basic" && o.level != "all") {
    error = "--fusion: '" + o.level + "' is not none, basic or all";
    return {};
  }
  for (const auto *list : {&o.enable, &o.disable})
    for (const auto &name : *list)
      if (std::find(fusionPassNames().begin(), fusionPassNames().end(), name) == fusionPassNames().end()) {
        error = "'" + name + "' is not a fusion pass; the fusion passes are: " + joined(fusionPassNames());
        return {};
      }
  auto in = [](const std::vector<std::string> &v, const std::string &n) {
    return std::find(v.begin(), v.end(), n) != v.end();
  };
  std::vector<std::string> chosen;
  for (const auto &p : fusionPasses()) {
    bool on = o.level == "all" || (o.level == "basic" && p.basic);
    if (in(o.enable, p.name)) on = true;
    if (in(o.disable, p.name)) on = false;
    if (on) chosen.push_back(p.name);
  }
  return chosen;
}

void addFusionPasses(mlir::OpPassManager &pm, const std::vector<std::string> &passes) {
  for (const auto &p : fusionPasses())
    if (std::find(passes.begin(), passes.end(), p.name) != passes.end()) pm.addPass(p.create());
}

namespace {
struct FusionPipelineOptions : mlir::PassPipelineOptions<FusionPipelineOptions> {
  Option<std::string> level{*this, "level", llvm::cl::desc("none, basic or all"), llvm::cl::init("all")};
};
} // namespace

void registerFusionPipeline() {
  mlir::PassPipelineRegistration<FusionPipelineOptions>(
      "q3-fusion", "the fusion passes of a --fusion level, in pipeline order",
      [](mlir::OpPassManager &pm, const FusionPipelineOptions &o) {
        FusionOptions options;
        options.level = o.level;
        std::string error;
        auto passes = selectFusionPasses(options, error);
        if (!error.empty()) llvm::report_fatal_error(llvm::StringRef(error));
        addFusionPasses(pm, passes);
      });
}

} // namespace q3
