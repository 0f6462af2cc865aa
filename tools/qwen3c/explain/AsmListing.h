//===- AsmListing.h - a model's assembly read back kernel by kernel -*- C++ -*-===//
//
// The assembly LLVM writes for a module lowered with a line table: every
// instruction follows a `.loc FILE LINE` whose line, in the file
// q3.kernels, is the number q3-kernel-locations gave its kernel. LLVM's
// verbose comments mark loop headers ("=>This Inner Loop Header") and
// members ("in Loop: Header=BB3_7"), and spill slots ("Spill", "Reload"),
// which is all that is needed to find each kernel's innermost loops.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_TOOLS_EXPLAIN_ASMLISTING_H
#define QWEN3C_TOOLS_EXPLAIN_ASMLISTING_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace q3c::explain {

struct AsmInstruction {
  std::string mnemonic, operands, comment;
  int64_t kernel = 0; // 0: no kernel's line (set-up code, or merged by LLVM)
};

// The instructions that matter for a kernel's speed.
struct InstructionCounts {
  int64_t total = 0, fma = 0, bf16Dot = 0, int8Dot = 0, tile = 0, loads = 0, stores = 0, prefetches = 0,
          spills = 0, reloads = 0;
  std::string widestRegister; // zmm, ymm, xmm or "" (no vector register)
  void add(const AsmInstruction &i);
};

struct AsmLoop {
  std::string function, header; // header: LLVM's block name, BB3_7
  std::vector<AsmInstruction> instructions;
  int64_t kernel = 0; // the kernel most of its instructions belong to
  InstructionCounts counts;
};

struct AsmKernel {
  InstructionCounts counts;   // all of the kernel's instructions
  std::vector<AsmLoop> loops; // its innermost loops, in the order they appear
  // The loop that does the kernel's arithmetic: one in a parallel region
  // first, then most FMAs, dots and tile ops, then most instructions.
  const AsmLoop *hottest() const;
};

struct AsmListing {
  std::map<int64_t, AsmKernel> kernels;
  int64_t instructions = 0, attributed = 0; // all, and those with a kernel's line
  static AsmListing parse(const std::string &assembly);
};

// One instruction as assembly text, "vfmadd231ps (%rax), %zmm1, %zmm0".
std::string render(const AsmInstruction &i);

} // namespace q3c::explain

#endif
