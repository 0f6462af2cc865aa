//===- CostModel.cpp --------------------------------------------------------===//
#include "passes/CostModel.h"
#include "dialect/Q3Ops.h"
#include "passes/LoweringConfig.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

using namespace mlir;

namespace q3 {
namespace {

double bytesOf(Type t) {
  auto r = llvm::dyn_cast<RankedTensorType>(t);
  if (!r) return 0;
  double bits = r.getElementType().getIntOrFloatBitWidth();
  return double(r.getNumElements()) * bits / 8;
}

double elementsOf(Type t) {
  auto r = llvm::dyn_cast<RankedTensorType>(t);
  return r ? double(r.getNumElements()) : 0;
}

bool isWeight(Value v) { return v.getDefiningOp() && llvm::isa<WeightOp, ConcatOp>(v.getDefiningOp()); }

// 2 M N K for an input [..., K] (M rows) against a weight [N, K].
double productFlops(Value input, Value weight) {
  auto x = llvm::cast<RankedTensorType>(input.getType());
  auto w = llvm::cast<RankedTensorType>(weight.getType());
  return 2.0 * double(x.getNumElements() / x.getShape().back()) * double(w.getDimSize(0)) * double(w.getDimSize(1));
}

// Reads of the non-weight tensor operands, writes of every result.
Cost streamed(Operation *op) {
  Cost c;
  c.kernels = 1;
  for (Value v : op->getOperands())
    if (isWeight(v)) c.weightRead += bytesOf(v.getType());
    else c.activationRead += bytesOf(v.getType());
  for (Value r : op->getResults()) c.activationWritten += bytesOf(r.getType());
  return c;
}

} // namespace

Cost costOf(Operation *op, int64_t position) {
  if (!isKernelOp(op)) return {};
  llvm::StringRef name = op->getName().stripDialect();
  if (name == "linear") {
    Cost c = streamed(op);
    c.flops = productFlops(op->getOperand(0), op->getOperand(1));
    return c;
  }
  // Fused linears: the input read once, only the final result written; a
  // folded norm adds its 4 FLOPs per input element (and reads its weight).
  if (name == "linear_residual" || name == "linear_split" || name == "linear_swiglu") {
    Cost c = streamed(op);
    c.flops = productFlops(op->getOperand(0), op->getOperand(1));
    double out = 0;
    for (Value r : op->getResults()) out += elementsOf(r.getType());
    if (name == "linear_residual") c.flops += out;
    if (name == "linear_swiglu") c.flops += 5 * out;
    if (op->getNumOperands() > 2 && name != "linear_residual") {
      auto x = llvm::cast<RankedTensorType>(op->getOperand(0).getType());
      c.flops += 4 * elementsOf(x);
      if (stagesFoldedNorm(x.getNumElements() / x.getShape().back())) {
        c.activationWritten += bytesOf(x);
        c.activationRead += bytesOf(x);
      }
    }
    return c;
  }
  if (name == "norm_rope") {
    Cost c = streamed(op);
    c.flops = 10 * elementsOf(op->getResult(0).getType());
    return c;
  }
  if (name == "norm_rope_write") { // like kv_write: the rows in, the same bytes into the cache
    Cost c;
    c.kernels = 1;
    c.weightRead = bytesOf(op->getOperand(1).getType());
    c.activationRead = c.activationWritten = bytesOf(op->getOperand(0).getType());
    c.flops = 10 * elementsOf(op->getOperand(0).getType());
    return c;
  }
  if (name == "embedding") { // reads T rows of the table, not the table
    Cost c;
    c.kernels = 1;
    auto table = llvm::cast<RankedTensorType>(op->getOperand(0).getType());
    double rows = elementsOf(op->getOperand(1).getType());
    c.weightRead = rows * double(table.getDimSize(1)) * table.getElementType().getIntOrFloatBitWidth() / 8;
    c.activationRead = bytesOf(op->getOperand(1).getType());
    c.activationWritten = bytesOf(op->getResult(0).getType());
    return c;
  }
  if (name == "kv_write") { // the value in, the same bytes into the cache
    Cost c;
    c.kernels = 1;
    c.activationRead = c.activationWritten = bytesOf(op->getOperand(0).getType());
    return c;
  }
  if (name == "attention") {
    auto q = llvm::cast<RankedTensorType>(op->getOperand(0).getType());    // [T, H, D]
    auto keys = llvm::cast<RankedTensorType>(op->getOperand(1).getType()); // [L, KV, C, D]
    double H = double(q.getDimSize(1)), D = double(q.getDimSize(2));
    double KV = double(keys.getDimSize(1)), es = keys.getElementType().getIntOrFloatBitWidth() / 8.0;
    double positions = 0; // sum over the chunk's tokens of the positions each attends to
    for (int64_t t = 0; t < q.getDimSize(0); ++t) positions += double(position + t + 1);
    Cost c;
    c.kernels = 1;
    // An int8 cache's row carries its 4-byte f32 scale.
    double rowBytes = D * es + (keys.getElementType().isInteger(8) ? 4 : 0);
    c.activationRead = bytesOf(q) + 2 * KV * positions * rowBytes;
    c.activationWritten = bytesOf(op->getResult(0).getType());
    if (op->hasAttr("online_softmax")) {
      // No score rows; each position rescales the output accumulators (D
      // multiplies) and updates the running maximum and sum.
      c.flops = 5 * H * D * positions + 7 * H * positions;
    } else {
      c.activationRead += 2 * H * positions * 4;
      c.activationWritten += H * positions * 4;
      c.flops = 4 * H * D * positions + 5 * H * positions;
    }
    return c;
  }
  if (name == "moe_experts") {
    // Per token and selected expert: gate and up ([I, H]), SwiGLU, down.
    auto x = llvm::cast<RankedTensorType>(op->getOperand(0).getType());   // [T, H]
    auto sel = llvm::cast<RankedTensorType>(op->getOperand(1).getType()); // [T, k]
    auto gate = llvm::cast<RankedTensorType>(op->getOperand(3).getType()); // [E, I, H]
    double T = double(x.getDimSize(0)), k = double(sel.getDimSize(1)), H = double(x.getDimSize(1));
    double I = double(gate.getDimSize(1)), es = gate.getElementType().getIntOrFloatBitWidth() / 8.0;
    Cost c;
    c.kernels = 1;
    c.weightRead = T * k * 3 * I * H * es;
    if (op->hasAttr("group_by_expert") && T > 1) {
      // Each chosen expert read once per chunk; with uniform routing the
      // chunk chooses E (1 - (1 - k/E)^T) distinct experts on average.
      double E = double(gate.getDimSize(0));
      c.weightRead = E * (1 - std::pow(1 - k / E, T)) * 3 * I * H * es;
    }
    c.activationRead = bytesOf(x) * k + bytesOf(op->getOperand(1).getType()) + bytesOf(op->getOperand(2).getType()) +
                       T * k * I * 4;        // the SwiGLU vector read back by down
    c.activationWritten = T * k * I * 4 + bytesOf(op->getResult(0).getType()) * k; // accumulated per expert
    c.flops = T * k * (6 * I * H + 4 * I + 2 * H);
    return c;
  }
  Cost c = streamed(op);
  double n = op->getNumResults() ? elementsOf(op->getResult(0).getType()) : 0;
  if (name == "rms_norm") c.flops = 4 * n;
  else if (name == "rope") c.flops = 6 * n;
  else if (name == "silu" || name == "swiglu") c.flops = 5 * n;
  else if (name == "moe_router") c.flops = 6 * elementsOf(op->getOperand(0).getType());
  else c.flops = n;
  return c;
}

std::vector<CostRow> costReport(ModuleOp module, int64_t position) {
  std::vector<CostRow> rows;
  auto layersAttr = module->getAttrOfType<IntegerAttr>("q3.num_layers");
  auto sparseAttr = module->getAttrOfType<DenseBoolArrayAttr>("q3.sparse_layers");
  int64_t numLayers = layersAttr ? layersAttr.getInt() : 1, sparse = 0;
  if (sparseAttr)
    for (bool s : sparseAttr.asArrayRef()) sparse += s;
  auto tokensOf = [](func::FuncOp f) -> int64_t {
    if (f.getNumArguments() == 0) return 1;
    auto t = llvm::dyn_cast<RankedTensorType>(f.getArgumentTypes()[0]);
    return t && t.getRank() >= 1 ? std::max<int64_t>(1, t.getDimSize(0)) : 1;
  };
  for (auto f : module.getOps<func::FuncOp>()) {
    if (f.isExternal()) continue;
    CostRow row;
    row.function = f.getSymName().str();
    row.tokens = tokensOf(f);
    auto kind = f->getAttrOfType<StringAttr>("q3.layer_kind");
    row.kind = kind ? kind.str() : "head";
    row.layers = !kind ? 1 : row.kind == "moe" ? sparse : numLayers - sparse;
    Cost total;
    f.walk([&](Operation *op) {
      // A head's layer loop is costed through the layer functions.
      if (!kind && op->getParentOfType<scf::ForOp>()) return;
      total += costOf(op, position);
    });
    row.perToken = total.scaled(1.0 / double(row.tokens));
    if (kind || total.kernels > 0) rows.push_back(row);
  }
  return rows;
}

std::map<std::string, Cost> costPerEntry(const std::vector<CostRow> &rows) {
  std::map<std::string, Cost> perEntry;
  // A row is an entry (prefill_64) or one of its layer functions
  // (prefill_64_dense_layer).
  for (const auto &r : rows) {
    llvm::StringRef entry(r.function);
    entry.consume_back("_dense_layer") || entry.consume_back("_moe_layer");
    perEntry[entry.str()] += r.perToken.scaled(double(r.layers));
  }
  return perEntry;
}

namespace {
std::string fmt(double v, const char *f = "%.0f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
} // namespace

std::string renderCostComparison(ModuleOp unfused, ModuleOp fused, int64_t position, const std::string &fusedName) {
  auto a = costPerEntry(costReport(unfused, position)), b = costPerEntry(costReport(fused, position));
  std::ostringstream o;
  o << "Whole forward pass per token at KV position " << position << ", no fusion against " << fusedName << ":\n\n"
    << "| entry | fusion | kernels | activations read (B) | activations written (B) | weights read (B) | FLOPs |\n"
    << "|---|---|---:|---:|---:|---:|---:|\n";
  for (const auto &[entry, c] : a) {
    const Cost &f = b[entry];
    o << "| " << entry << " | none | " << fmt(c.kernels, "%.2f") << " | " << fmt(c.activationRead) << " | "
      << fmt(c.activationWritten) << " | " << fmt(c.weightRead) << " | " << fmt(c.flops) << " |\n";
    auto pct = [](double x, double y) { return y > 0 ? fmt(100.0 * (x - y) / y, "%+.0f%%") : std::string("-"); };
    o << "| " << entry << " | " << fusedName << " | " << fmt(f.kernels, "%.2f") << " (" << pct(f.kernels, c.kernels)
      << ") | " << fmt(f.activationRead) << " (" << pct(f.activationRead, c.activationRead) << ") | "
      << fmt(f.activationWritten) << " (" << pct(f.activationWritten, c.activationWritten) << ") | "
      << fmt(f.weightRead) << " | " << fmt(f.flops) << " |\n";
  }
  return o.str();
}

std::string renderCostReport(ModuleOp module, int64_t position) {
  auto rows = costReport(module, position);
  std::ostringstream o;
  o << "| function | per token of | layers | kernels | activations read (B) | activations written (B) | "
       "weights read (B) | FLOPs |\n|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto &r : rows)
    o << "| " << r.function << " | " << r.tokens << " tokens | " << r.layers << " | " << fmt(r.perToken.kernels, "%.2f")
      << " | " << fmt(r.perToken.activationRead) << " | " << fmt(r.perToken.activationWritten) << " | "
      << fmt(r.perToken.weightRead) << " | " << fmt(r.perToken.flops) << " |\n";
  o << "\nWhole forward pass per token at KV position " << position << ":\n\n"
    << "| entry | kernels | activations read (B) | activations written (B) | weights read (B) | FLOPs |\n"
    << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto &[entry, c] : costPerEntry(rows))
    o << "| " << entry << " | " << fmt(c.kernels, "%.2f") << " | " << fmt(c.activationRead) << " | "
      << fmt(c.activationWritten) << " | " << fmt(c.weightRead) << " | " << fmt(c.flops) << " |\n";
  return o.str();
}

} // namespace q3
