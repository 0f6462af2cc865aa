//===- TargetInfo.h - what the CPU being compiled for can do ------*- C++ -*-===//
//
// The strategy passes (q3-choose-weight-layouts, q3-choose-lowering-config)
// read the target from the module's `q3.target` attribute (#q3.target<...>,
// written by q3-set-target from --target-cpu / --target-features or the
// host, or by hand in a lit test); nothing below them chooses on its own.
// TargetInfo is that attribute's C++ face plus the facts derived from it.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_TARGETINFO_H
#define QWEN3C_PASSES_TARGETINFO_H

#include "dialect/Q3Dialect.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace q3 {

struct TargetInfo {
  std::string cpu;                   // LLVM CPU name ("host" resolved)
  std::vector<std::string> features; // x86 features enabled (runtime/CpuFeatures.h's names)
  int64_t vectorBits = 128;          // widest vector register: 512 (AVX-512), 256 (AVX2)
  int64_t vectorRegisters = 16;      // architectural vector registers: 32 with AVX-512
  int64_t l2Bytes = 0;               // per core, 0 when unknown (named CPUs)
  std::string llvmFeatures;          // the feature string LLVM's TargetMachine gets (not in the attribute)

  bool has(const std::string &feature) const;
  // f32 lanes of one vector register.
  int64_t f32Lanes() const { return vectorBits / 32; }
  // Whether a product that streams each weight block once (decode) should
  // ask for its blocks ahead with software prefetches: a fact of the CPU's
  // memory system, measured per CPU (TargetInfo.cpp).
  bool prefetchesStreams() const;

  // From LLVM's description of `cpu` ("host": this machine, with its
  // features) plus `extraFeatures` ("+avx512bf16,-amx-tile"). Fails with
  // a message naming an unknown CPU.
  static TargetInfo fromLLVM(const std::string &cpu, const std::string &extraFeatures);

  // The module's q3.target; an error at the module when it has none.
  static mlir::FailureOr<TargetInfo> fromModule(mlir::ModuleOp module);
  TargetAttr toAttr(mlir::MLIRContext *ctx) const;
  static TargetInfo fromAttr(TargetAttr attr);
};

// The module attribute's name.
inline constexpr const char *kTargetAttrName = "q3.target";

} // namespace q3

#endif
