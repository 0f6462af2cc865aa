//===- LayerGraph.cpp -------------------------------------------------------===//
#include "passes/LayerGraph.h"
#include "dialect/Q3Ops.h"
#include "passes/CostModel.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"

#include <sstream>

using namespace mlir;

namespace q3 {
namespace {

std::string shapeOf(Type t) {
  auto r = llvm::dyn_cast<RankedTensorType>(t);
  if (!r) return "";
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(r.getShape(), os, "x");
  return s;
}

// "model.layers.{layer}.self_attn.q_proj.weight" -> "q_proj"
std::string shortName(llvm::StringRef name) {
  name.consume_back(".weight");
  return name.rsplit('.').second.empty() ? name.str() : name.rsplit('.').second.str();
}

std::string weightLabel(Value v) {
  if (auto w = v.getDefiningOp<WeightOp>()) return shortName(w.getName());
  if (auto c = v.getDefiningOp<ConcatOp>()) {
    std::string s;
    for (Value in : c.getInputs()) s += (s.empty() ? "" : " + ") + weightLabel(in);
    return s;
  }
  return "";
}

bool isView(Operation *op) { return llvm::isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op); }

// Looks through reshapes to the value that a kernel really produced.
Value producer(Value v) {
  while (Operation *d = v.getDefiningOp()) {
    if (!isView(d)) break;
    v = d->getOperand(0);
  }
  return v;
}

} // namespace

std::string layerGraphDot(func::FuncOp fn, const std::string &title) {
  std::ostringstream o;
  o << "digraph \"" << fn.getSymName().str() << "\" {\n"
    << "  label=\"" << title << "\"; labelloc=t; fontname=\"Helvetica\";\n"
    << "  node [fontname=\"Helvetica\", fontsize=10]; edge [fontsize=9, color=\"#555555\"];\n";
  llvm::DenseMap<Value, std::string> node;
  Block &entry = fn.getBody().front();
  for (BlockArgument a : entry.getArguments()) {
    if (!llvm::isa<RankedTensorType>(a.getType())) continue;
    std::string id = "arg" + std::to_string(a.getArgNumber());
    node[a] = id;
    o << "  " << id << " [shape=oval, label=\"arg " << a.getArgNumber() << "\\n" << shapeOf(a.getType())
      << "\"];\n";
  }
  int n = 0, weights = 0;
  fn.walk([&](Operation *op) {
    if (!isKernelOp(op)) return;
    std::string id = "k" + std::to_string(n++);
    bool fused = llvm::isa<LinearResidualOp, LinearSwiGLUOp, LinearSplitOp, NormRopeOp, NormRopeWriteOp>(op) ||
                 op->hasAttr("online_softmax");
    o << "  " << id << " [shape=box, style=\"rounded,filled\", fillcolor=\"" << (fused ? "#cfe8cf" : "#e8e8f4")
      << "\", label=\"" << op->getName().getStringRef().str();
    if (op->hasAttr("online_softmax")) o << "\\n(online softmax)";
    if (op->getNumResults()) o << "\\n" << shapeOf(op->getResult(0).getType());
    o << "\"];\n";
    for (Value r : op->getResults()) node[r] = id;
    for (Value v : op->getOperands()) {
      std::string w = weightLabel(v);
      if (!w.empty()) {
        std::string wid = "w" + std::to_string(weights++);
        o << "  " << wid << " [shape=note, fontsize=8, style=filled, fillcolor=\"#fff6d5\", label=\"" << w << "\\n"
          << shapeOf(v.getType()) << "\"];\n  " << wid << " -> " << id << " [style=dashed];\n";
        continue;
      }
      auto it = node.find(producer(v));
      if (it != node.end() && llvm::isa<RankedTensorType>(v.getType()))
        o << "  " << it->second << " -> " << id << ";\n";
    }
  });
  auto ret = llvm::cast<func::ReturnOp>(entry.getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto it = node.find(producer(v));
    if (it == node.end()) continue;
    o << "  out" << i << " [shape=oval, label=\"result " << i << "\"];\n  " << it->second << " -> out" << i << ";\n";
  }
  Cost total;
  fn.walk([&](Operation *op) { total += costOf(op, 0); });
  o << "  summary [shape=plaintext, label=\"" << total.kernels << " kernels, "
    << int64_t(total.activationWritten) << " B of activations written per call\"];\n}\n";
  return o.str();
}

} // namespace q3
