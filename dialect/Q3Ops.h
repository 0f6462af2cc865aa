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

#endif
