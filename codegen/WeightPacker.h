//===- WeightPacker.h - the weight blob the generated code reads -*- C++ -*-===//
#ifndef QWEN3C_CODEGEN_WEIGHTPACKER_H
#define QWEN3C_CODEGEN_WEIGHTPACKER_H

#include "frontend/Checkpoint.h"
#include "passes/WeightPlan.h"

#include <string>

namespace q3c {

class AtomicFile;

// Appends every weight instance of the plan to `out` at its offset (relative
// to where the blob starts), converted to the element type and layout the
// plan gives it, streaming one tensor at a time. Returns the blob checksum
// (qwen3c_abi::Checksum).
uint64_t packWeights(const Checkpoint &ck, const q3::WeightPlan &plan, AtomicFile &out);

} // namespace q3c

#endif
