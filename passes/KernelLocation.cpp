//===- KernelLocation.cpp - kernel numbers and block names in locations ------===//
#include "passes/KernelLocation.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"

#include <algorithm>

using namespace mlir;

namespace q3 {
namespace {

void collectNames(Attribute a, std::vector<std::string> &out) {
  auto add = [&](StringRef name) {
    if (std::find(out.begin(), out.end(), name.str()) == out.end()) out.push_back(name.str());
  };
  if (auto n = dyn_cast<NameLoc>(a)) {
    add(n.getName().getValue());
    collectNames(n.getChildLoc(), out);
  } else if (auto f = dyn_cast<FusedLoc>(a)) {
    if (f.getMetadata()) collectNames(f.getMetadata(), out);
    for (Location l : f.getLocations()) collectNames(l, out);
  } else if (auto c = dyn_cast<CallSiteLoc>(a)) {
    collectNames(c.getCallee(), out);
  } else if (auto names = dyn_cast<ArrayAttr>(a)) {
    for (Attribute n : names)
      if (auto s = dyn_cast<StringAttr>(n)) add(s.getValue());
  }
}

} // namespace

std::vector<std::string> blockNames(Location loc) {
  std::vector<std::string> out;
  collectNames(loc, out);
  return out;
}

int64_t kernelNumber(Location loc) {
  if (auto f = dyn_cast<FileLineColLoc>(loc)) return f.getFilename() == kKernelFile ? f.getLine() : 0;
  if (auto f = dyn_cast<FusedLoc>(loc)) {
    for (Location l : f.getLocations())
      if (int64_t n = kernelNumber(l)) return n;
    return 0;
  }
  if (auto n = dyn_cast<NameLoc>(loc)) return kernelNumber(n.getChildLoc());
  if (auto c = dyn_cast<CallSiteLoc>(loc)) return kernelNumber(c.getCallee());
  return 0;
}

Location kernelLocation(Location loc, int64_t number) {
  MLIRContext *ctx = loc.getContext();
  SmallVector<Attribute> names;
  for (const std::string &n : blockNames(loc)) names.push_back(StringAttr::get(ctx, n));
  // One file:line location inside, so LLVM's line table keeps the number
  // (a fused location of several becomes line 0 there).
  return FusedLoc::get(ctx, {FileLineColLoc::get(ctx, kKernelFile, unsigned(number), 0)}, ArrayAttr::get(ctx, names));
}

} // namespace q3
