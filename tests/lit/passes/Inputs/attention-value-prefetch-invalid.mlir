// Inputs of attention-value-prefetch.mlir's INVALID run (not a test itself).
func.func @amx() attributes {c = #q3.attention_config<head_block = 2, score_block = 16, query_block = 16, dot = amx, prefetch_values = false>} {
  return
}

// -----

func.func @word() attributes {c = #q3.attention_config<head_block = 2, score_block = 16, prefetch_values = maybe>} {
  return
}
