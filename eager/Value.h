//===- Value.h - run-time values of the eager interpreter -------*- C++ -*-===//
#ifndef QWEN3C_EAGER_VALUE_H
#define QWEN3C_EAGER_VALUE_H

#include <xtensor/xarray.hpp>

#include <cstdint>
#include <memory>
#include <variant>

namespace q3c::eager {

// Float tensors of every element type are held as f32 (bf16/f16 results are
// rounded to their type after each op); i32 and i1 tensors as int32.
// Storage is shared: the interpreter moves a value on its last use, so a
// KV cache that reaches q3.kv_write with no other holder is updated in place.
struct Tensor {
  std::shared_ptr<xt::xarray<float>> f;
  std::shared_ptr<xt::xarray<int32_t>> i;

  static Tensor floats(xt::xarray<float> a) {
    return {std::make_shared<xt::xarray<float>>(std::move(a)), nullptr};
  }
  static Tensor ints(xt::xarray<int32_t> a) {
    return {nullptr, std::make_shared<xt::xarray<int32_t>>(std::move(a))};
  }
};

// An `index`/integer scalar or a tensor.
using RtValue = std::variant<int64_t, Tensor>;

} // namespace q3c::eager

#endif
