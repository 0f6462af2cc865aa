//===- ExplainReport.h - what `qwen3c explain` found, and its text and HTML -*- C++ -*-===//
#ifndef QWEN3C_TOOLS_EXPLAIN_EXPLAINREPORT_H
#define QWEN3C_TOOLS_EXPLAIN_EXPLAINREPORT_H

#include "passes/CostModel.h"
#include "tools/qwen3c/explain/AsmListing.h"
#include "tools/qwen3c/explain/BuildingBlocks.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace q3c::explain {

// A fusion pass made an op (new, or with new attributes) of these blocks.
struct FusionEvent {
  std::string pass, op;
  std::vector<std::string> names;
};

// One kernel that computes (part of) a block.
struct KernelReport {
  int64_t number = 0;
  std::string op;
  std::vector<std::string> names, alsoComputes;
  bool perLayer = false;
  std::vector<std::pair<std::string, std::string>> attributes; // name, printed value
  std::vector<std::string> weights;                            // each weight operand and its layout
  q3::Cost cost;                                               // per token
  std::string loopNest;
  InstructionCounts asmCounts;
  int64_t asmLoops = 0;
  std::vector<AsmLoop> loops; // all its innermost loops
  bool hasHotLoop = false;
  AsmLoop hotLoop;
  // --measure: the profiled executable's calls of this kernel and their time.
  int64_t measuredCalls = 0;
  double measuredSeconds = 0;
};

struct BlockReport {
  const BuildingBlock *block = nullptr;
  std::vector<std::pair<std::string, std::string>> config; // key, value as JSON
  std::vector<std::string> graphOps, fusedOps;
  std::vector<FusionEvent> fusions;
  std::vector<KernelReport> kernels;
};

struct Report {
  std::string model, entry, fusion, target;
  std::vector<std::string> fusionPasses;
  int64_t tokens = 1, position = 0, asmInstructions = 0, asmAttributed = 0;
  std::string measuredRun; // --measure: what ran (empty without)
  std::vector<BlockReport> blocks;
  // For the HTML page: a decode layer's Graphviz pictures (SVG, or dot
  // source when Graphviz is missing) without fusion and at the chosen level.
  std::string graphNone, graphFused;
};

// The report as text; excerpts of at most `lines` lines.
std::string renderText(const Report &r, int64_t lines);
// The same as one self-contained HTML page (no network, no scripts).
std::string renderHtml(const Report &r, int64_t lines);

} // namespace q3c::explain

#endif
