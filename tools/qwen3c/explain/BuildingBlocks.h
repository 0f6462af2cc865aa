//===- BuildingBlocks.h - Qwen3's building blocks, as `qwen3c explain` shows them -*- C++ -*-===//
//
// Each block of a Qwen3 layer (and of the model around the layers): its
// formula, the config.json keys it reads and the Hugging Face module names
// the graph builder gives its ops (their locations). The kernels that
// compute a block are found by those names, never typed in here.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_TOOLS_EXPLAIN_BUILDINGBLOCKS_H
#define QWEN3C_TOOLS_EXPLAIN_BUILDINGBLOCKS_H

#include <string>
#include <vector>

namespace q3c::explain {

struct BuildingBlock {
  std::string id;      // what --block takes: "qk-norm"
  std::string title;   // "QK-norm"
  std::string formula; // one or two lines
  std::vector<std::string> configKeys;
  // Module names (suffixes after a '.', or whole names) of its ops.
  std::vector<std::string> modules;
  bool sparseOnly = false, denseOnly = false; // only in MoE / dense layers
};

// Every block, in the order a token meets them.
const std::vector<BuildingBlock> &buildingBlocks();

// Whether a location's module name (as the graph builder wrote it) belongs to `block`.
bool computes(const BuildingBlock &block, const std::string &moduleName);

} // namespace q3c::explain

#endif
