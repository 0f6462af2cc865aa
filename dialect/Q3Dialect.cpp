//===- Q3Dialect.cpp - q3 dialect registration ------------------------------===//
#include "dialect/Q3Dialect.h"
#include "dialect/Q3Ops.h"

#include "mlir/IR/DialectImplementation.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace q3;

#include "dialect/Q3OpsDialect.cpp.inc"
#include "dialect/Q3OpsEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/Q3OpsAttrDefs.cpp.inc"

namespace {
// Every q3 op is pure and region-free, so inlining a layer function into the
// layer loop is always legal.
struct Q3InlinerInterface : public DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final { return true; }
};
} // namespace

void Q3Dialect::initialize() {
  addInterfaces<Q3InlinerInterface>();
  addOperations<
#define GET_OP_LIST
#include "dialect/Q3Ops.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/Q3OpsAttrDefs.cpp.inc"
      >();
}
