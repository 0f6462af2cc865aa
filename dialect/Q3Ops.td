//===- Q3Ops.td - q3 operations ----------------------------*- tablegen -*-===//
//
// Conventions shared by every op:
//  * activations are static tensors of f32, bf16 or f16, tokens on dim 0;
//  * weights may also be i8/i4 (weight-only quantisation), which then need
//    per-row or per-group scales (see q3.linear);
//  * positions and layer indices are `index` values: they are the only
//    run-time quantities, every shape is static.
//
//===----------------------------------------------------------------------===//

#ifndef Q3_OPS_TD
#define Q3_OPS_TD

include "Q3Dialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class Q3_Op<string mnemonic, list<Trait> traits = []>
    : Op<Q3_Dialect, mnemonic, traits>;

def Q3_Float : AnyTypeOf<[F32, BF16, F16]>;
def Q3_Act : StaticShapeTensorOf<[F32, BF16, F16]>;
def Q3_Weight : StaticShapeTensorOf<[F32, BF16, F16, I8, I<4>]>;
def Q3_Ids : StaticShapeTensorOf<[I32]>;
// A KV cache [layers, kv_heads, capacity, head_dim]. i8: each row (one
// position of one KV head) is int8 values q with one f32 scale d, the row
// x = q * d, d = max|x| / 127 and q = roundeven(x * 127 / max|x|) (a row of
// zeros: q = 0, d = 0). The scale is part of the element type's meaning;
// where it lives in memory is the lowering's choice (docs/architecture.md).
def Q3_Cache : StaticShapeTensorOf<[F32, BF16, F16, I8]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Q3_WeightOp : Q3_Op<"weight", [Pure]> {
  let summary = "a named tensor of the checkpoint";
  let description = [{
    `name` is the checkpoint tensor name with two placeholders:
    `{layer}` is replaced by the value of the `layer` operand (which must be
    present exactly when the placeholder is), and `{expert}` stacks all
    experts along a new leading dimension.

    ```mlir
    %w = q3.weight "model.layers.{layer}.self_attn.q_proj.weight" layer %l
           : tensor<2048x1024xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name, Optional<Index>:$layer);
  let results = (outs Q3_Weight:$result);
  let assemblyFormat =
      "$name (`layer` $layer^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding, normalisation, projections
//===----------------------------------------------------------------------===//

def Q3_EmbeddingOp : Q3_Op<"embedding", [Pure]> {
  let summary = "gather rows of the token embedding table";
  let description = [{
    `result[t, :] = table[ids[t], :]`, converted to the result element type.
  }];
  let arguments = (ins Q3_Weight:$table, Q3_Ids:$ids);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$table `[` $ids `]` attr-dict `:` type($table) `,` "
                       "type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def Q3_RMSNormOp : Q3_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `y = x / sqrt(mean(x^2) + eps) * weight`, the mean over the last
    dimension; `weight` has the size of that dimension. Used for the block
    norms ([T, hidden]) and for QK-norm ([T, heads, head_dim]).
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$weight, F64Attr:$eps);
  let results = (outs Q3_Act:$result);
  let assemblyFormat =
      "$input `,` $weight attr-dict `:` type($input) `,` type($weight)";
  let hasVerifier = 1;
}

def Q3_LinearOp : Q3_Op<"linear", [Pure, InferTypeOpAdaptor]> {
  let summary = "y = x * W^T with W in the Hugging Face [out, in] layout";
  let description = [{
    `input` is [..., in], `weight` is [out, in], the result is [..., out]
    with the input's element type. Integer weights (i8/i4) carry `scales`:
    [out] for per-row or [out, in / group] for per-group dequantisation.
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$weight,
                       Optional<Q3_Act>:$scales);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$input `,` $weight (`scales` $scales^ `:` "
                       "type($scales))? attr-dict `:` type($input) `,` "
                       "type($weight)";
  let hasVerifier = 1;
}

// The fused linears below are written by the q3-fuse-* passes, never by the
// frontend. Their optional `norm %g {norm_eps}` normalises each input row on
// load, as `q3.rms_norm %input, %g {eps = norm_eps}` would before the
// product, so the normalised rows are never written to memory.

def Q3_LinearResidualOp : Q3_Op<"linear_residual", [Pure, AllTypesMatch<["residual", "result"]>]> {
  let summary = "x * W^T + residual, the add as the kernel's epilogue";
  let description = [{
    `q3.linear` followed by `q3.add` of `residual`: the product is added to
    the residual stream as it leaves the registers.
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$weight, Q3_Act:$residual);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$input `,` $weight `,` $residual attr-dict `:` type($input) `,` "
                       "type($weight) `,` type($residual)";
  let hasVerifier = 1;
}

def Q3_LinearSwiGLUOp : Q3_Op<"linear_swiglu", [Pure, InferTypeOpAdaptor]> {
  let summary = "silu(x * Wg^T) * (x * Wu^T) from one weight [Wg; Wu]";
  let description = [{
    The gate and up projections of a SwiGLU FFN as one product: `weight` is
    [2 * inter, in], the gate rows first, then the up rows (a `q3.concat` of
    the two checkpoint weights); the result is [..., inter]. The SwiGLU is
    the kernel's epilogue, so neither half is written to memory. `norm`
    normalises the input rows on load, as in q3.linear.
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$weight, Optional<Q3_Weight>:$norm,
                       OptionalAttr<F64Attr>:$norm_eps);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$input `,` $weight (`norm` $norm^ `:` type($norm))? attr-dict "
                       "`:` type($input) `,` type($weight)";
  let hasVerifier = 1;
}

def Q3_LinearSplitOp : Q3_Op<"linear_split", [Pure]> {
  let summary = "sibling projections of one input as one product, split by rows";
  let description = [{
    `weight` is the row concatenation of several [out_i, in] weights (a
    `q3.concat`); result i is [..., out_i] and holds x * W_i^T. One kernel
    reads the input once and streams all the weights (QKV). `norm`
    normalises the input rows on load, as in q3.linear.
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$weight, Optional<Q3_Weight>:$norm,
                       OptionalAttr<F64Attr>:$norm_eps);
  let results = (outs Variadic<Q3_Act>:$results);
  let assemblyFormat = "$input `,` $weight (`norm` $norm^ `:` type($norm))? attr-dict "
                       "`:` type($input) `,` type($weight) `->` type($results)";
  let hasVerifier = 1;
}

def Q3_ConcatOp : Q3_Op<"concat", [Pure]> {
  let summary = "weights stacked along dimension 0";
  let description = [{
    Made by the sibling fusions so one product can stream several
    checkpoint weights: the inputs (q3.weight results) share every
    dimension but the first and their element type. The weight planner
    packs the concatenation as one weight.
  }];
  let arguments = (ins Variadic<Q3_Weight>:$inputs);
  let results = (outs Q3_Weight:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Q3_RopeOp : Q3_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding";
  let description = [{
    `input` is [T, heads, head_dim]; token t sits at position `offset + t`.
    Frequencies are `theta^(-2i/head_dim)`, or YaRN's blend of them when
    `yarn` is given. `style` says how elements are paired (Qwen3: split
    halves).
  }];
  let arguments = (ins Q3_Act:$input, Index:$offset, F64Attr:$theta,
                       Q3_RopeStyleAttr:$style, OptionalAttr<Q3_YarnAttr>:$yarn);
  let results = (outs Q3_Act:$result);
  let assemblyFormat =
      "$input `at` $offset attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Q3_KVWriteOp : Q3_Op<"kv_write", [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "write a chunk of keys or values into the KV cache";
  let description = [{
    `cache` is [layers, kv_heads, capacity, head_dim]; `value` is
    [T, kv_heads, head_dim]. Row t goes to `cache[layer, :, offset + t, :]`;
    rows whose position is at or past the capacity are dropped (the padded
    tail of a prefill chunk).
  }];
  let arguments = (ins Q3_Act:$value, Q3_Cache:$cache, Index:$layer,
                       Index:$offset);
  let results = (outs Q3_Cache:$result);
  let assemblyFormat = "$value `into` $cache `[` $layer `]` `at` $offset "
                       "attr-dict `:` type($value) `,` type($cache)";
  let hasVerifier = 1;
}

def Q3_NormRopeOp : Q3_Op<"norm_rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "QK-norm and rotary embedding as one kernel";
  let description = [{
    `q3.rms_norm` over head_dim with `norm` (eps `eps`), then `q3.rope` at
    `offset`, in one pass over `input` [T, heads, head_dim].
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$norm, Index:$offset,
                       F64Attr:$eps, F64Attr:$theta, Q3_RopeStyleAttr:$style,
                       OptionalAttr<Q3_YarnAttr>:$yarn);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$input `,` $norm `at` $offset attr-dict `:` type($input) `,` type($norm)";
  let hasVerifier = 1;
}

def Q3_NormRopeWriteOp : Q3_Op<"norm_rope_write", [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "QK-norm, rotary embedding and the KV-cache write as one kernel";
  let description = [{
    q3.norm_rope whose rows go straight into `cache[layer]` at `offset`, as
    q3.kv_write would write them; the result is the updated cache, so the
    rotated keys never exist in memory outside it.
  }];
  let arguments = (ins Q3_Act:$input, Q3_Weight:$norm, Q3_Cache:$cache, Index:$layer,
                       Index:$offset, F64Attr:$eps, F64Attr:$theta, Q3_RopeStyleAttr:$style,
                       OptionalAttr<Q3_YarnAttr>:$yarn);
  let results = (outs Q3_Cache:$result);
  let assemblyFormat = "$input `,` $norm `into` $cache `[` $layer `]` `at` $offset attr-dict "
                       "`:` type($input) `,` type($norm) `,` type($cache)";
  let hasVerifier = 1;
}

def Q3_AttentionOp : Q3_Op<"attention", [Pure, AllTypesMatch<["query", "result"]>,
                                          AllTypesMatch<["keys", "values"]>]> {
  let summary = "grouped-query causal attention over the KV cache";
  let description = [{
    `query` is [T, q_heads, head_dim]; `keys` and `values` are caches
    [layers, kv_heads, capacity, head_dim] of which layer `layer` is read.
    Query t (position `offset + t`) attends to cache positions
    0 .. offset + t, so the current length is `offset + T`. Query head h
    uses kv head `h / (q_heads / kv_heads)`; scores are scaled by `scale`.
    With `online_softmax` (set by q3-fuse-attention-softmax) the kernel
    keeps a running maximum and sum instead of materialising score rows.
  }];
  let arguments = (ins Q3_Act:$query, Q3_Cache:$keys, Q3_Cache:$values,
                       Index:$layer, Index:$offset, F64Attr:$scale,
                       UnitAttr:$online_softmax);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$query `,` $keys `,` $values `[` $layer `]` `at` "
                       "$offset attr-dict `:` type($query) `,` type($keys)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Q3_UnaryOp<string mnemonic> : Q3_Op<mnemonic,
    [Pure, Elementwise, SameOperandsAndResultType]> {
  let arguments = (ins Q3_Act:$input);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class Q3_BinaryOp<string mnemonic> : Q3_Op<mnemonic,
    [Pure, Elementwise, SameOperandsAndResultType]> {
  let arguments = (ins Q3_Act:$lhs, Q3_Act:$rhs);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs)";
}

def Q3_SiLUOp : Q3_UnaryOp<"silu"> {
  let summary = "x * sigmoid(x)";
}
def Q3_SwiGLUOp : Q3_BinaryOp<"swiglu"> {
  let summary = "silu(gate) * up";
  let arguments = (ins Q3_Act:$gate, Q3_Act:$up);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($gate)";
}
def Q3_AddOp : Q3_BinaryOp<"add"> { let summary = "elementwise sum"; }
def Q3_MulOp : Q3_BinaryOp<"mul"> { let summary = "elementwise product"; }

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Q3_MoERouterOp : Q3_Op<"moe_router", [Pure, InferTypeOpAdaptor]> {
  let summary = "softmax over experts, top-k, optional renormalisation";
  let description = [{
    `logits` is [T, experts]. Per token: softmax over all experts, keep the
    `top_k` largest probabilities (ties: lower expert index first), and when
    `norm_topk_prob` divide them by their sum. Results: `weights` [T, k]
    (the logits' element type) and `experts` [T, k] as i32, in descending
    order of weight.
  }];
  let arguments = (ins Q3_Act:$logits, I64Attr:$top_k, BoolAttr:$norm_topk_prob);
  let results = (outs Q3_Act:$weights, Q3_Ids:$experts);
  let assemblyFormat = "$logits attr-dict `:` type($logits)";
  let hasVerifier = 1;
}

def Q3_MoEExpertsOp : Q3_Op<"moe_experts", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "selected experts' SwiGLU FFNs, combined by router weight";
  let description = [{
    `input` [T, hidden]; `weights`/`experts` [T, k] from q3.moe_router;
    `gate`, `up` [E, inter, hidden] and `down` [E, hidden, inter] are the
    stacked expert weights. For each token:
    `sum_j weights[t,j] * down[e] (silu(gate[e] x) * up[e] x)`, e = experts[t,j].
    With `group_by_expert` (set by q3-fuse-moe-grouping) a chunk is computed
    expert by expert over the tokens that chose it, so each selected
    expert's weights are read once per chunk rather than once per token.
  }];
  let arguments = (ins Q3_Act:$input, Q3_Act:$weights, Q3_Ids:$experts,
                       Q3_Weight:$gate, Q3_Weight:$up, Q3_Weight:$down,
                       UnitAttr:$group_by_expert);
  let results = (outs Q3_Act:$result);
  let assemblyFormat = "$input `,` $weights `,` $experts `,` $gate `,` $up `,` "
                       "$down attr-dict `:` type($input) `,` type($weights) `,` "
                       "type($experts) `,` type($gate) `,` type($up) `,` "
                       "type($down)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Sampling helpers
//===----------------------------------------------------------------------===//

def Q3_ArgmaxOp : Q3_Op<"argmax", [Pure, InferTypeOpAdaptor]> {
  let summary = "index of the largest element of the last dimension";
  let description = [{
    `[..., V] -> [...]` as i32; ties pick the lowest index.
  }];
  let arguments = (ins Q3_Act:$input);
  let results = (outs Q3_Ids:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

#endif // Q3_OPS_TD
