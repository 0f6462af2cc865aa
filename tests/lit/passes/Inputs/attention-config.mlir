// Input of lowering-config-invalid.mlir: attention configs the lowering refuses.
// -----
module attributes {q3.num_layers = 1 : i64} {
  func.func @bad(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 3, score_block = 16>} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<1x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64} {
  func.func @none(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<1x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @rows(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2>} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<1x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64} {
  func.func @rowkeys(%q: tensor<2x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<2x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2>} : tensor<2x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<2x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @scores(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 8>} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<1x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @novalue(%q: tensor<2x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<2x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2>} : tensor<2x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<2x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @valuedim(%q: tensor<2x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<2x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2, value_block = 24>} : tensor<2x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<2x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64, q3.key_cache_block = 16 : i64} {
  func.func @tiles(%q: tensor<4x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<4x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, query_block = 2, value_block = 16, query_tiles = 4>} : tensor<4x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<4x4x32xf32>
  }
}
// -----
module attributes {q3.num_layers = 1 : i64} {
  func.func @rowvalues(%q: tensor<1x4x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %p: index) -> tensor<1x4x32xf32> {
    %l = arith.constant 0 : index
    %o = q3.attention %q, %k, %v[%l] at %p {online_softmax, scale = 0.17677669529663687 : f64, q3.attention_config = #q3.attention_config<head_block = 2, score_block = 16, value_block = 16>} : tensor<1x4x32xf32>, tensor<1x2x64x32xf32>
    return %o : tensor<1x4x32xf32>
  }
}
