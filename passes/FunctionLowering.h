//===- FunctionLowering.h - an entry point's tensors as buffers -*- C++ -*-===//
//
// What every target's kernel lowering shares: the walk that rewrites one q3
// entry function into destination-passing form on memrefs. The KV caches
// are updated in place, logits go to an out-parameter, every other tensor
// gets its own 64-byte aligned slice of one arena (q3-plan-arena then packs
// the slices by liveness), loop-carried values keep one buffer, weights are
// views of the packed blob at q3.weight_plan's offsets. How a q3 op becomes
// code is the target's: a subclass implements lowerQ3 (q3-lower-to-loops for
// the CPU, q3-lower-to-gpu for CUDA) and how buffers are copied.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_FUNCTIONLOWERING_H
#define QWEN3C_PASSES_FUNCTIONLOWERING_H

#include "passes/WeightPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <functional>
#include <memory>
#include <optional>

namespace q3 {

// A tensor type's buffer type (an int8 KV cache's rows carry their scale).
mlir::MemRefType memrefFor(mlir::Type t);

// The elementwise q3 ops, one kernel family on every target.
enum class ElementwiseKind { SiLU, SwiGLU, Add, Mul };
struct ElementwiseOp {
  ElementwiseKind kind;
  mlir::Value lhs, rhs; // rhs null for SiLU
  mlir::Value result;
};
// q3.silu / swiglu / add / mul as an ElementwiseOp; nothing for another op.
std::optional<ElementwiseOp> elementwiseOf(mlir::Operation &op);

class FunctionLowering {
public:
  FunctionLowering(mlir::ModuleOp module, const WeightPlan &plan, mlir::MemRefType tableType);
  virtual ~FunctionLowering() = default;

  // Lowers `src` into the body of `dst`; returns failure after an error.
  mlir::LogicalResult run(mlir::func::FuncOp src, mlir::func::FuncOp dst);
  int64_t arenaBytes() const { return arenaSize; }

protected:
  // Before the first op, the arguments mapped: where a target puts what
  // every kernel of the function reads.
  virtual void beginFunction(mlir::OpBuilder &b, mlir::func::FuncOp dst) {}
  // One q3 op, its operands' buffers already mapped.
  virtual mlir::LogicalResult lowerQ3(mlir::Operation &op, mlir::OpBuilder &b) = 0;
  // `from` into `to` (same shape): slices, concats, loop-carried values.
  virtual void copy(mlir::OpBuilder &b, mlir::Value from, mlir::Value to);
  // A scalar read by the function itself (tensor.extract), not by a kernel.
  virtual mlir::FailureOr<mlir::Value> loadScalar(mlir::OpBuilder &b, mlir::Operation *at, mlir::Value buffer,
                                                  mlir::ValueRange indices);

  mlir::Value buffer(mlir::Value tensor) { return map.lookup(tensor); }
  mlir::Value allocate(mlir::OpBuilder &b, mlir::Value result); // a result's buffer (preassigned or arena)
  mlir::Value arenaSlot(mlir::OpBuilder &b, mlir::MemRefType type);
  mlir::Value weightView(mlir::OpBuilder &b, mlir::Operation *op); // a q3.weight or q3.concat with a slot
  // A K cache's buffer as the kernels address it: the key-blocked
  // [L, kv_heads, C / 16, D, 16] view when the strategy blocked keys.
  mlir::Value keyView(mlir::OpBuilder &b, mlir::Value cache);
  mlir::Value index(mlir::OpBuilder &b, int64_t v);
  // The location of the op being lowered: a kernel's loops carry its op's
  // (q3-kernel-locations' number and block names).
  mlir::Location loc() { return currentLoc; }

  mlir::ModuleOp module;
  const WeightPlan &plan;
  mlir::IRMapping map;                          // tensors -> buffers, scalars -> scalars
  llvm::DenseMap<mlir::Value, mlir::Value> scalesOf; // an int8 / int4 weight's view -> its scales' view
  llvm::DenseSet<mlir::Value> nibbleViews;      // the int4 ones (two values a byte)
  int64_t keyBlock = 0;                         // q3.key_cache_block (0: rows)
  llvm::DenseSet<mlir::Operation *> keyWriters; // the kv_write / norm_rope_write ops that fill a K cache

private:
  mlir::LogicalResult lowerOps(mlir::Block &block, mlir::OpBuilder &b);
  mlir::LogicalResult lowerOp(mlir::Operation &op, mlir::OpBuilder &b);
  mlir::LogicalResult lowerFor(mlir::scf::ForOp op, mlir::OpBuilder &b);
  mlir::LogicalResult lowerIf(mlir::scf::IfOp op, mlir::OpBuilder &b);

  mlir::MemRefType tableType;
  mlir::Location currentLoc;
  mlir::Value offsetsTable;
  int constCounter = 0;
  mlir::Value arena, weights;
  int64_t arenaSize = 0;
  llvm::DenseMap<mlir::Value, mlir::Value> preassigned; // tensors that must land in an out-param
};

using FunctionLoweringFactory =
    std::function<std::unique_ptr<FunctionLowering>(mlir::ModuleOp, const WeightPlan &, mlir::MemRefType table)>;

// The pass body both targets run: the weight offsets table as a global, each
// public entry function rewritten as
// (inputs as buffers..., out-params for non-cache results..., weights, arena)
// by a lowering from `make`, and q3.arena_bytes set.
mlir::LogicalResult lowerEntryPoints(mlir::ModuleOp module, llvm::StringRef passName,
                                     const FunctionLoweringFactory &make);

} // namespace q3

#endif
