//===- Kernels.h - reference math for each q3 op ---------------*- C++ -*-===//
//
// Straightforward f32 loops, written from the op definitions in Q3Ops.td and
// Hugging Face's Qwen3 code (RoPE frequencies in f32, softmax in f32). They
// are the oracle for every pass, so clarity beats speed; only linear has a
// loop order chosen for speed, because it dominates eager run time.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_EAGER_KERNELS_H
#define QWEN3C_EAGER_KERNELS_H

#include "dialect/RopeFrequencies.h"

#include <xtensor/xarray.hpp>

#include <cstdint>

namespace q3c::eager {

xt::xarray<float> embedding(const xt::xarray<float> &table, const xt::xarray<int32_t> &ids);
xt::xarray<float> rmsNorm(const xt::xarray<float> &x, const xt::xarray<float> &w, double eps);
xt::xarray<float> linear(const xt::xarray<float> &x, const xt::xarray<float> &w);
xt::xarray<float> rope(const xt::xarray<float> &x, int64_t offset, const q3::RopeSpec &spec, bool splitHalves);
void kvWrite(xt::xarray<float> &cache, const xt::xarray<float> &value, int64_t layer,
             int64_t offset);
xt::xarray<float> attention(const xt::xarray<float> &q, const xt::xarray<float> &k,
                            const xt::xarray<float> &v, int64_t layer, int64_t offset,
                            double scale);
xt::xarray<float> silu(const xt::xarray<float> &x);
xt::xarray<float> swiglu(const xt::xarray<float> &gate, const xt::xarray<float> &up);
void moeRouter(const xt::xarray<float> &logits, int64_t topK, bool normalise,
               xt::xarray<float> &weights, xt::xarray<int32_t> &experts);
xt::xarray<float> moeExperts(const xt::xarray<float> &x, const xt::xarray<float> &weights,
                             const xt::xarray<int32_t> &experts, const xt::xarray<float> &gate,
                             const xt::xarray<float> &up, const xt::xarray<float> &down);
xt::xarray<int32_t> argmax(const xt::xarray<float> &x);

// Rounds every element to bf16 or f16 precision (kept in f32 storage).
void roundToBf16(xt::xarray<float> &x);
void roundToF16(xt::xarray<float> &x);
// Each row (last dimension) as an int8 KV cache holds it: q * d with
// d = max|x| / 127 and q = roundeven(x * (127 / max|x|)) (dialect/Q3Ops.td).
void roundToInt8Rows(xt::xarray<float> &x);

} // namespace q3c::eager

#endif
