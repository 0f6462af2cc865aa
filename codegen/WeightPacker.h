//===- WeightPacker.h - the weight blob the generated code reads -*- C++ -*-===//
#ifndef QWEN3C_CODEGEN_WEIGHTPACKER_H
#define QWEN3C_CODEGEN_WEIGHTPACKER_H

#include "frontend/Checkpoint.h"
#include "passes/WeightPlan.h"

#include <string>

namespace q3c {

// Writes every weight instance of the plan at its offset, converted to the
// element type the plan gives it (f32/bf16/f16; experts stacked), streaming
// one tensor at a time. Returns an FNV-1a checksum of the blob.
uint64_t packWeights(const Checkpoint &ck, const q3::WeightPlan &plan, const std::string &path);

} // namespace q3c

#endif
