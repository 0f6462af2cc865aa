//===- LoopNestExcerpt.h - a kernel's loops after q3-lower-to-loops -*- C++ -*-===//
//
// The loop nest a kernel became, as a skeleton a reader can take in: each
// loop's header with its bounds (constants printed as numbers), the ops of
// outer bodies counted by name, and the innermost body's ops in full (up to
// a line budget). The ops are found by their location (kernelNumber).
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_TOOLS_EXPLAIN_LOOPNESTEXCERPT_H
#define QWEN3C_TOOLS_EXPLAIN_LOOPNESTEXCERPT_H

#include "mlir/IR/AsmState.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>
#include <string>

namespace q3c::explain {

// Kernel `kernel`'s ops in `fn` (the outermost of them) as a skeleton of at
// most `maxLines` lines; "" when `fn` has none.
std::string loopNestExcerpt(mlir::func::FuncOp fn, mlir::AsmState &state, int64_t kernel, int64_t maxLines);

} // namespace q3c::explain

#endif
