//===- TensorInventory.h - the tensors a Qwen3 config implies ---*- C++ -*-===//
//
// The single source of truth for tensor names and shapes: the checkpoint
// checker, the random-checkpoint writer and `inspect` all read it.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_TENSORINVENTORY_H
#define QWEN3C_FRONTEND_TENSORINVENTORY_H

#include <cstdint>
#include <string>
#include <vector>

namespace q3c {

struct ModelConfig;

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

std::vector<TensorSpec> expectedTensors(const ModelConfig &config);

// Weight elements one decode step reads: every weight, but only k of E
// experts, and none of an embedding table that is not also the LM head (one
// row of it, negligible). Times the element size: the decode roofline's bytes.
double decodeWeightElements(const ModelConfig &config);

// "model.layers.{layer}.x" with layer 3 -> "model.layers.3.x"; likewise {expert}.
std::string expandName(const std::string &pattern, int64_t layer, int64_t expert = -1);

std::string shapeString(const std::vector<int64_t> &shape);

} // namespace q3c

#endif
