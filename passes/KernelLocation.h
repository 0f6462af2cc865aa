//===- KernelLocation.h - which kernel, and which blocks, a location names -*- C++ -*-===//
//
// The graph builder names every op after the Hugging Face module it computes
// ("model.layers.{layer}.self_attn.q_proj"); a fusion gives the fused op the
// fused location of its parts. Before lowering, q3-kernel-locations numbers
// the kernels: each kernel op's location becomes
//
//   fused<["model.layers.{layer}.input_layernorm", "…q_proj", …]>["q3.kernels":N:0]
//
// so every loop, vector op and (through LLVM's line table) every machine
// instruction lowered from it says kernel N and the blocks it computes.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_PASSES_KERNELLOCATION_H
#define QWEN3C_PASSES_KERNELLOCATION_H

#include "mlir/IR/Location.h"

#include <cstdint>
#include <string>
#include <vector>

namespace q3 {

// The file name of the kernel line numbers, in the IR and in the object's line table.
inline constexpr const char *kKernelFile = "q3.kernels";

// The module names a location holds (name locations, through fused and
// call-site locations and a kernel location's metadata), in order, each once.
std::vector<std::string> blockNames(mlir::Location loc);

// The kernel number of a location made by q3-kernel-locations (also inside a
// fused or call-site location), else 0.
int64_t kernelNumber(mlir::Location loc);

// Kernel `number`'s location for an op at `loc`.
mlir::Location kernelLocation(mlir::Location loc, int64_t number);

} // namespace q3

#endif
