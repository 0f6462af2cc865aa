//===- Q3Ops.h - q3 operations ----------------------------------*- C++ -*-===//
#ifndef QWEN3C_DIALECT_Q3OPS_H
#define QWEN3C_DIALECT_Q3OPS_H

#include "dialect/Q3Dialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialect/Q3Ops.h.inc"

namespace q3 {

// Whether `op` is a q3 op that becomes a kernel of its own: every q3 op but
// the weights (q3.weight) and their stacks (q3.concat), which are data.
inline bool isKernelOp(mlir::Operation *op) {
  return op->getDialect() && llvm::isa<Q3Dialect>(op->getDialect()) && !llvm::isa<WeightOp, ConcatOp>(op);
}

} // namespace q3

#endif
