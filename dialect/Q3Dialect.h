//===- Q3Dialect.h - the q3 dialect -----------------------------*- C++ -*-===//
#ifndef QWEN3C_DIALECT_Q3DIALECT_H
#define QWEN3C_DIALECT_Q3DIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialect/Q3OpsDialect.h.inc"
#include "dialect/Q3OpsEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/Q3OpsAttrDefs.h.inc"

#endif
