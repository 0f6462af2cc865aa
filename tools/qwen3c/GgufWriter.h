//===- GgufWriter.h - a checkpoint as a GGUF file for llama.cpp --*- C++ -*-===//
//
// Enough of GGUF v3 for llama.cpp to run a Qwen3 / Qwen3-MoE checkpoint:
// the architecture's hyper-parameters under llama.cpp's keys ("qwen3",
// "qwen3moe"), the byte-level BPE vocabulary and merges from tokenizer.json,
// and every tensor under llama.cpp's name (experts stacked into one 3-D
// tensor per projection) as f32 or bf16. Used by `qwen3c bench` to run
// llama-bench on the very checkpoint the other engines run.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_TOOLS_GGUFWRITER_H
#define QWEN3C_TOOLS_GGUFWRITER_H

#include <string>

namespace q3c {

// The type of the matrices (1-D tensors and the MoE router stay f32):
// Q8_0 / Q4_0 quantised by llama.cpp's reference rules.
enum class GgufType { F32, BF16, Q8_0, Q4_0 };

void writeGguf(const std::string &checkpointDir, const std::string &outPath, GgufType type);

} // namespace q3c

#endif
