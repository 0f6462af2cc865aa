//===- Q3Dialect.td - the q3 dialect: Qwen3 building blocks -*- tablegen -*-===//
//
// q3 describes a Qwen3 model at the level of its building blocks (RMSNorm,
// linear, RoPE, attention over a KV cache, SwiGLU, MoE routing), on static
// tensors. Passes fuse these blocks and lower them to upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef Q3_DIALECT_TD
#define Q3_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Q3_Dialect : Dialect {
  let name = "q3";
  let cppNamespace = "::q3";
  let summary = "Qwen3 model building blocks";
  let description = [{
    Ops at the granularity of a transformer block: embedding gather, RMSNorm,
    linear with the Hugging Face [out, in] weight layout, rotary embedding,
    grouped-query causal attention over an explicit KV cache, SwiGLU, MoE
    router and experts, argmax. Weights are named references into the
    checkpoint (`q3.weight`), resolved per layer at run time, so one layer
    function serves every layer.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Plain attribute dictionaries: type inference then sees attributes while
  // an op is being parsed (properties are only filled in afterwards).
  let usePropertiesForAttributes = 0;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

// How RoPE pairs the elements of a head. Qwen3 (like Llama) rotates element i
// with element i + head_dim/2 ("split halves"); GPT-J style pairs neighbours.
def Q3_RopeStyle : I32EnumAttr<"RopeStyle", "rotary embedding pairing", [
    I32EnumAttrCase<"SplitHalves", 0, "split_halves">,
    I32EnumAttrCase<"Interleaved", 1, "interleaved">]> {
  let cppNamespace = "::q3";
  let genSpecializedAttr = 0;
}
def Q3_RopeStyleAttr : EnumAttr<Q3_Dialect, Q3_RopeStyle, "rope_style"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // Q3_DIALECT_TD
