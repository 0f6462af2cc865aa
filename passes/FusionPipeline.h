//===- FusionPipeline.h - fusion levels and per-pass switches ---*- C++ -*-===//
//
// `qwen3c build --fusion=none|basic|all [--enable-pass P] [--disable-pass P]`
// and `qwen3c-opt --q3-fusion=LEVEL` both come here, so a level means the same
// passes everywhere. Levels:
//   none   no fusion: one kernel per q3 op of the frontend's graph;
//   basic  producer/consumer fusions that keep every weight as the
//          checkpoint has it: residual add, QK-norm + RoPE (+ KV write),
//          online-softmax attention, MoE prefill grouped by expert;
//   all    basic plus the fusions that stack or fold weights: gate/up +
//          SwiGLU, QKV, RMSNorm into the consuming projections.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_FUSIONPIPELINE_H
#define QWEN3C_PASSES_FUSIONPIPELINE_H

#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace q3 {

struct FusionOptions {
  std::string level = "all";
  std::vector<std::string> enable, disable; // pass flags, e.g. q3-fuse-qkv
};

// Every fusion pass's flag, in the order the pipeline runs them.
const std::vector<std::string> &fusionPassNames();

// The passes `options` selects, in pipeline order; an empty string and a
// message in `error` for an unknown level or pass name.
std::vector<std::string> selectFusionPasses(const FusionOptions &options, std::string &error);

// Adds the passes named (from selectFusionPasses) to `pm`.
void addFusionPasses(mlir::OpPassManager &pm, const std::vector<std::string> &passes);

// Registers the `q3-fusion` pipeline (option `level`) for qwen3c-opt.
void registerFusionPipeline();

} // namespace q3

#endif
