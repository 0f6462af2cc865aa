//===- LoopNestExcerpt.cpp - loop skeletons of a lowered kernel ---------------===//
#include "tools/qwen3c/explain/LoopNestExcerpt.h"
#include "passes/KernelLocation.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <vector>

using namespace mlir;

namespace q3c::explain {
namespace {

struct Printer {
  AsmState &state;
  int64_t maxLines, lines = 0;
  std::string out;
  bool truncated = false;

  void emit(int depth, const std::string &text) {
    if (lines >= maxLines) {
      truncated = true;
      return;
    }
    out += std::string(size_t(2 * depth), ' ') + text + "\n";
    ++lines;
  }
  std::string operand(Value v) {
    if (auto c = getConstantIntValue(v)) return std::to_string(*c);
    std::string s;
    llvm::raw_string_ostream os(s);
    v.printAsOperand(os, state);
    return s;
  }
  std::string list(ValueRange vs) {
    std::string s;
    for (Value v : vs) s += (s.empty() ? "" : ", ") + operand(v);
    return s;
  }
  std::string header(Operation *op) {
    if (auto f = dyn_cast<scf::ForOp>(op))
      return "scf.for " + operand(f.getInductionVar()) + " = " + operand(f.getLowerBound()) + " to " +
             operand(f.getUpperBound()) + " step " + operand(f.getStep()) + " {";
    if (auto p = dyn_cast<scf::ParallelOp>(op))
      return "scf.parallel (" + list(p.getInductionVars()) + ") = (" + list(p.getLowerBound()) + ") to (" +
             list(p.getUpperBound()) + ") step (" + list(p.getStep()) + ") {";
    if (isa<scf::IfOp>(op)) return "scf.if " + operand(op->getOperand(0)) + " {";
    return op->getName().getStringRef().str() + " {";
  }
  std::string full(Operation *op) {
    std::string s;
    llvm::raw_string_ostream os(s);
    op->print(os, state);
    return s;
  }
  void body(Block &block, int depth) {
    bool nested = llvm::any_of(block, [](Operation &o) { return o.getNumRegions() > 0; });
    std::map<std::string, int64_t> counts; // leaf ops of a body with loops inside, by name
    auto flushCounts = [&]() {
      if (counts.empty()) return;
      std::string s = "// ";
      for (auto &[name, n] : counts) s += name + (n > 1 ? " x" + std::to_string(n) : "") + ", ";
      emit(depth, s.substr(0, s.size() - 2));
      counts.clear();
    };
    for (Operation &o : block) {
      if (o.hasTrait<OpTrait::IsTerminator>() && o.getNumOperands() == 0) continue;
      if (o.getNumRegions() > 0) {
        flushCounts();
        op(&o, depth);
      } else if (nested) {
        ++counts[o.getName().getStringRef().str()];
      } else {
        emit(depth, full(&o));
      }
    }
    flushCounts();
  }
  void op(Operation *o, int depth) {
    if (o->getNumRegions() == 0) {
      emit(depth, full(o));
      return;
    }
    emit(depth, header(o));
    for (Region &r : o->getRegions()) {
      if (&r != &o->getRegion(0)) emit(depth, "} else {");
      for (Block &b : r) body(b, depth + 1);
    }
    emit(depth, "}");
  }
};

} // namespace

std::string loopNestExcerpt(func::FuncOp fn, AsmState &state, int64_t kernel, int64_t maxLines) {
  Printer p{state, maxLines, 0, "", false};
  int64_t leafRoots = 0;
  std::vector<Operation *> roots;
  fn.walk<WalkOrder::PreOrder>([&](Operation *o) {
    if (q3::kernelNumber(o->getLoc()) != kernel) return WalkResult::advance();
    Operation *parent = o->getParentOp();
    if (parent && q3::kernelNumber(parent->getLoc()) == kernel) return WalkResult::advance();
    if (o->getNumRegions() > 0) roots.push_back(o);
    else ++leafRoots;
    return WalkResult::skip();
  });
  if (roots.empty() && leafRoots == 0) return "";
  if (leafRoots) p.emit(0, "// " + std::to_string(leafRoots) + " ops around the loops (views, constants, copies)");
  for (Operation *r : roots) p.op(r, 0);
  if (p.truncated) p.out += "  ... (" + std::to_string(p.maxLines) + " lines shown)\n";
  return p.out;
}

} // namespace q3c::explain
