//===- KernelGen.cpp - single q3 ops at real model shapes, compiled ---------===//
//
//   qwen3c-kernelgen OUT.o OUT.h [--check]
//
// Writes one q3 function per kernel the microbenchmarks time (linear at decode
// and prefill shapes, decode attention at several KV lengths, a whole MoE
// block at decode), compiles them with the very pipeline `qwen3c build` uses
// (weight layouts, lowering to loops, LLVM O3 for the host) into OUT.o, and
// writes OUT.h: a table with each kernel's C entry point, shapes, weight blob
// layout and the bytes and FLOPs one call moves, so the benchmark can report
// GB/s and GFLOP/s. Shapes are Qwen3-0.6B's and Qwen3-30B-A3B's.
//
// With --check, the kernels qwen3c-kernel-check runs on exact inputs
// instead: small products with a pinned weight layout and lowering config
// (the quantised families, every tile shape they take), so a test can fill
// the packed weights itself and compare against its own arithmetic; and
// attention over each KV cache type with pinned attention configs (its
// register tiles, value passes and key ranges), for the same comparison.
//
//===----------------------------------------------------------------------===//
#include "codegen/CpuPipeline.h"
#include "dialect/Q3Dialect.h"
#include "dialect/Q3Ops.h"
#include "passes/LoweringConfig.h"
#include "passes/Passes.h"
#include "passes/WeightPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

enum class Kind { Linear, Attention, MoE };

struct Kernel {
  Kind kind = Kind::Linear;
  std::string name, shape;                  // C identifier, human shape
  int64_t m = 0, k = 0, n = 0;              // linear: [m,k] x [n,k]^T
  int64_t heads = 0, kvHeads = 0, dim = 0, context = 0, position = 0; // attention
  int64_t rows = 1;        // attention: query rows (1: decode; more: a prompt chunk, online softmax)
  std::string cache = "f32"; // attention: the KV cache's element type (f32, bf16, i8: int8 rows and scales)
  int64_t hidden = 0, experts = 0, topK = 0, inter = 0;               // MoE
  std::string layout, config; // pinned #q3.layout / #q3.lowering_config bodies (--check)
  std::string dot = "fma";    // attention: the product arithmetic its config ended up with
  bool roundsToBF16 = false;  // ... and whether it rounds queries and weights to bf16
};

std::string t(std::initializer_list<int64_t> dims, const char *elem) {
  std::string s = "tensor<";
  for (int64_t d : dims) s += std::to_string(d) + "x";
  return s + elem + ">";
}

std::string mlirFor(const Kernel &k) {
  std::ostringstream o;
  switch (k.kind) {
  case Kind::Linear:
    o << "func.func @" << k.name << "(%x: " << t({k.m, k.k}, "f32") << ") -> " << t({k.m, k.n}, "f32") << " {\n"
      << "  %w = q3.weight \"" << k.name << ".weight\" "
      << (k.layout.empty() ? "" : "{q3.layout = #q3.layout<" + k.layout + ">} ") << ": " << t({k.n, k.k}, "bf16") << "\n"
      << "  %y = q3.linear %x, %w "
      << (k.config.empty() ? "" : "{q3.lowering_config = #q3.lowering_config<" + k.config + ">} ") << ": "
      << t({k.m, k.k}, "f32") << ", " << t({k.n, k.k}, "bf16") << "\n"
      << "  return %y : " << t({k.m, k.n}, "f32") << "\n}\n";
    break;
  case Kind::Attention: {
    std::string q = t({k.rows, k.heads, k.dim}, "f32"),
                cache = t({1, k.kvHeads, k.context, k.dim}, k.cache.c_str());
    o << "func.func @" << k.name << "(%q: " << q << ", %k: " << cache << ", %v: " << cache << ", %pos: index) -> "
      << q << " {\n"
      << "  %l = arith.constant 0 : index\n"
      << "  %o = q3.attention %q, %k, %v[%l] at %pos {online_softmax, "
      << "scale = " << 1.0 / std::sqrt(double(k.dim)) << " : f64"
      << (k.config.empty() ? "" : ", q3.attention_config = #q3.attention_config<" + k.config + ">") << "} : " << q
      << ", " << cache << "\n"
      << "  return %o : " << q << "\n}\n";
    break;
  }
  case Kind::MoE: {
    std::string x = t({1, k.hidden}, "f32");
    o << "func.func @" << k.name << "(%x: " << x << ") -> " << x << " {\n"
      << "  %r = q3.weight \"" << k.name << ".gate.weight\" : " << t({k.experts, k.hidden}, "bf16") << "\n"
      << "  %logits = q3.linear %x, %r : " << x << ", " << t({k.experts, k.hidden}, "bf16") << "\n"
      << "  %w, %e = q3.moe_router %logits {norm_topk_prob = true, top_k = " << k.topK
      << " : i64} : " << t({1, k.experts}, "f32") << "\n"
      << "  %g = q3.weight \"" << k.name << ".experts.{expert}.gate_proj.weight\" : "
      << t({k.experts, k.inter, k.hidden}, "bf16") << "\n"
      << "  %u = q3.weight \"" << k.name << ".experts.{expert}.up_proj.weight\" : "
      << t({k.experts, k.inter, k.hidden}, "bf16") << "\n"
      << "  %d = q3.weight \"" << k.name << ".experts.{expert}.down_proj.weight\" : "
      << t({k.experts, k.hidden, k.inter}, "bf16") << "\n"
      << "  %y = q3.moe_experts %x, %w, %e, %g, %u, %d : " << x << ", " << t({1, k.topK}, "f32") << ", "
      << t({1, k.topK}, "i32") << ", " << t({k.experts, k.inter, k.hidden}, "bf16") << ", "
      << t({k.experts, k.inter, k.hidden}, "bf16") << ", " << t({k.experts, k.hidden, k.inter}, "bf16") << "\n"
      << "  return %y : " << x << "\n}\n";
    break;
  }
  }
  return o.str();
}

std::vector<Kernel> kernels() {
  std::vector<Kernel> ks;
  auto linear = [&](const std::string &model, const std::string &what, int64_t m, int64_t k, int64_t n) {
    Kernel x;
    x.kind = Kind::Linear;
    x.name = "linear_" + model + "_" + what + "_m" + std::to_string(m);
    x.shape = model + " " + what + " [" + std::to_string(m) + "x" + std::to_string(k) + "] x [" + std::to_string(n) +
              "x" + std::to_string(k) + "]^T";
    x.m = m, x.k = k, x.n = n;
    ks.push_back(x);
  };
  // Qwen3-0.6B: hidden 1024, 16 heads / 8 KV heads of 128, intermediate 3072.
  for (int64_t m : {1, 64, 512}) {
    linear("q06b", "q_proj", m, 1024, 2048);
    linear("q06b", "gate_proj", m, 1024, 3072);
    linear("q06b", "down_proj", m, 3072, 1024);
  }
  linear("q06b", "lm_head", 1, 1024, 151936);
  // Qwen3-30B-A3B: hidden 2048, 32 heads / 4 KV heads of 128.
  linear("q30b", "q_proj", 1, 2048, 4096);
  linear("q30b", "q_proj", 64, 2048, 4096);
  linear("q30b", "lm_head", 1, 2048, 151936); // three quarters of the 2-layer MoE's decode bytes
  // Attention: `rows` query rows ending at position len - 1 of a 4096 cache.
  auto attention = [&](int64_t rows, int64_t len, const std::string &cache) {
    Kernel a;
    a.kind = Kind::Attention;
    std::string what = rows == 1 ? "decode" : "prefill" + std::to_string(rows);
    a.name = "attention_q06b_" + what + "_kv" + std::to_string(len) + (cache == "f32" ? "" : "_" + cache);
    a.shape = "q06b " + what + ", 16 heads / 8 KV heads x 128, " + std::to_string(len) + " positions, " +
              (cache == "i8" ? "int8" : cache) + " cache";
    a.heads = 16, a.kvHeads = 8, a.dim = 128, a.context = 4096, a.position = len - rows, a.rows = rows;
    a.cache = cache;
    ks.push_back(a);
  };
  for (int64_t len : {128, 1024, 4096}) attention(1, len, "f32");
  attention(1, 4096, "bf16");
  attention(1, 4096, "i8");
  attention(256, 512, "f32");
  attention(256, 4096, "f32");
  attention(256, 4096, "bf16");
  attention(256, 4096, "i8");
  Kernel moe;
  moe.kind = Kind::MoE;
  moe.name = "moe_q30b_decode";
  moe.shape = "q30b MoE block at decode: router 2048->128, top 8, experts 768 wide";
  moe.hidden = 2048, moe.experts = 128, moe.topK = 8, moe.inter = 768;
  ks.push_back(moe);
  return ks;
}

// The check suite: each quantised layout through each int8 dot it takes
// (native only where the host has the instruction: LLVM cannot select it
// otherwise), at decode (1 x 4 blocks; i8_madd's 8-lane halves 1 x 2) and
// prefill (4 x 2, plus a remainder row; i8_madd 2 x 1, and 4 x 1 in split
// passes over the halves); k = 96 is three groups of 32, n = 64 four blocks.
std::vector<Kernel> checkKernels(const q3::TargetInfo &host) {
  std::vector<Kernel> ks;
  std::vector<std::string> dots = {"i8_emulated"};
  if (host.has("avx512vnni") && host.has("avx512bw")) dots.push_back("i8");
  if (host.has("avx2")) dots.push_back("i8_madd");
  struct Tile {
    int64_t m;
    const char *suffix, *config;
  };
  for (const std::string layout : {"k16_q8_quads", "k16_q4_quads"})
    for (const std::string &dot : dots) {
      std::vector<Tile> tiles = {
          {1, "", "tile_rows = 1, tile_blocks = 4, vector_width = 16, prefetch = 128, stage_norm = false, split_blocks = false"},
          {5, "", "tile_rows = 4, tile_blocks = 2, vector_width = 16, prefetch = 0, stage_norm = true, split_blocks = false"}};
      if (dot == "i8_madd")
        tiles = {{1, "", "tile_rows = 1, tile_blocks = 2, vector_width = 8, prefetch = 128, stage_norm = false, split_blocks = false"},
                 {5, "", "tile_rows = 2, tile_blocks = 1, vector_width = 8, prefetch = 0, stage_norm = true, split_blocks = false"},
                 {5, "_split", "tile_rows = 4, tile_blocks = 1, vector_width = 8, prefetch = 0, stage_norm = true, split_blocks = true"}};
      for (const Tile &t : tiles) {
        Kernel x;
        x.kind = Kind::Linear;
        x.name = "check_" + layout + "_" + dot + "_m" + std::to_string(t.m) + t.suffix;
        x.shape = layout + ", dot = " + dot + ", [" + std::to_string(t.m) + "x96] x [64x96]^T";
        x.m = t.m, x.k = 96, x.n = 64;
        x.layout = layout;
        x.config = std::string(t.config) + ", dot = " + dot;
        ks.push_back(x);
      }
    }
  // Attention over each cache type (f32, bf16, int8 rows and scales) at a
  // small GQA shape (4 heads over 2 KV heads of 64, a 64-position cache,
  // so a key-blocked cache of 4 blocks): prompt chunks whose rows start at
  // position 13, so register tiles straddle a block boundary and the first
  // tile of an item skips a block its second one sums; with 1, 2 and 4
  // tiles per item, and the strategy's own choice; decode split in 2 key
  // ranges.
  struct AttentionCase {
    const char *suffix;
    int64_t rows, position;
    const char *config; // empty: the strategy's
  };
  const AttentionCase cases[] = {
      {"prefill16", 16, 13, ""},
      {"prefill16_tiles1", 16, 13, "head_block = 2, score_block = 16, query_block = 2, value_block = 16"},
      {"prefill16_tiles2", 16, 13, "head_block = 2, score_block = 16, query_block = 2, value_block = 16, query_tiles = 2"},
      {"prefill16_tiles4", 16, 13, "head_block = 1, score_block = 16, query_block = 4, value_block = 32, query_tiles = 4"},
      {"decode", 1, 40, ""},
      {"decode_split2", 1, 40, "head_block = 2, score_block = 16, kv_split = 2, value_block = 64"},
  };
  // The bf16 pair family over the bf16 cache, pinned: emulated on every
  // host, vdpbf16ps where the host has it.
  std::vector<std::string> pairDots = {"bf16_emulated"};
  if (host.has("avx512bf16")) pairDots.push_back("bf16");
  for (const std::string &dot : pairDots)
    for (const AttentionCase &c : cases) {
      if (c.rows == 1 || !*c.config) continue;
      Kernel a;
      a.kind = Kind::Attention;
      a.name = "check_attention_bf16_" + std::string(c.suffix) + "_" + dot;
      a.config = std::string(c.config) + ", dot = " + dot;
      a.shape = std::string(c.suffix) + ", 4 heads / 2 KV heads x 64, bf16 cache of 64 positions, pinned " + a.config;
      a.heads = 4, a.kvHeads = 2, a.dim = 64, a.context = 64, a.position = c.position, a.rows = c.rows;
      a.cache = "bf16";
      ks.push_back(a);
    }
  for (const std::string cache : {"f32", "bf16", "i8"})
    for (const AttentionCase &c : cases) {
      Kernel a;
      a.kind = Kind::Attention;
      a.name = "check_attention_" + cache + "_" + c.suffix;
      a.shape = std::string(c.suffix) + ", 4 heads / 2 KV heads x 64, " + cache + " cache of 64 positions" +
                (*c.config ? ", pinned " + std::string(c.config) : ", the strategy's config");
      a.heads = 4, a.kvHeads = 2, a.dim = 64, a.context = 64, a.position = c.position, a.rows = c.rows;
      a.cache = cache;
      a.config = c.config;
      ks.push_back(a);
    }
  return ks;
}

} // namespace

int main(int argc, char **argv) {
  const bool check = argc == 4 && std::string(argv[3]) == "--check";
  if (argc != 3 && !check) {
    std::fprintf(stderr, "usage: %s OUT.o OUT.h [--check]\n", argv[0]);
    return 2;
  }
  std::vector<Kernel> ks = check ? checkKernels(q3c::describeTarget(q3c::CpuTarget{"host", ""})) : kernels();
  std::string text = "module attributes {q3.num_layers = 1 : i64} {\n";
  for (const auto &k : ks) text += mlirFor(k);
  text += "}\n";

  mlir::MLIRContext ctx;
  ctx.loadDialect<q3::Q3Dialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
  if (!module) {
    std::fprintf(stderr, "qwen3c-kernelgen: the kernel module does not parse:\n%s", text.c_str());
    return 1;
  }
  // The strategy alone first, to record each attention's arithmetic (the
  // check's reference rounds as it does); the pipeline keeps these configs.
  {
    mlir::PassManager pm(&ctx);
    pm.addPass(q3::createSetTarget(q3::SetTargetOptions{"host", ""}));
    pm.addPass(q3::createChooseLoweringConfig());
    if (mlir::failed(pm.run(*module))) return 1;
    std::map<std::string, q3::ProductDot> dots;
    module->walk([&](q3::AttentionOp a) {
      if (auto config = a->getAttrOfType<q3::AttentionConfigAttr>(q3::kAttentionConfigAttrName))
        dots[a->getParentOfType<mlir::func::FuncOp>().getName().str()] = config.getDot();
    });
    for (Kernel &k : ks)
      if (dots.count(k.name)) {
        k.dot = q3::stringifyProductDot(dots[k.name]).str();
        k.roundsToBF16 = q3::roundsToBF16(dots[k.name]);
      }
  }
  if (mlir::failed(q3c::runQ3Lowering(*module, /*fusionPasses=*/{}, q3c::CpuTarget{"host", ""}))) return 1;
  auto plan = q3::WeightPlan::read(*module);
  auto arena = (*module)->getAttrOfType<mlir::IntegerAttr>("q3.arena_bytes");
  if (!plan || !arena) {
    std::fprintf(stderr, "qwen3c-kernelgen: no weight plan\n");
    return 1;
  }
  const int64_t keyCacheBlock = q3::keyCacheBlockOf(*module);
  if (mlir::failed(q3c::runLLVMLowering(*module))) return 1;
  q3c::emitObject(*module, std::vector<int64_t>(64, 0), {}, q3c::describeTarget(q3c::CpuTarget{"host", ""}), argv[1]);

  // The header: entry points and a table the benchmark iterates over.
  std::ofstream h(argv[2]);
  h << "// Generated by qwen3c-kernelgen: do not edit.\n#pragma once\n#include \"runtime/ModelAbi.h\"\n\n"
    << "namespace qwen3c_kernels {\n"
    << "constexpr long long kWeightBytes = " << plan->totalBytes << ", kArenaBytes = " << arena.getInt() << ";\n"
    << "// The strategy's q3.key_cache_block: K caches are [1, kv_heads, context / B, row, B] (0: rows)\n"
    << "constexpr long long kKeyCacheBlock = " << keyCacheBlock << ";\n"
    << "enum class Kind { Linear, Attention, MoE };\n"
    << "struct Kernel {\n  const char *name, *shape;\n  Kind kind;\n"
    << "  long long m, k, n, heads, kvHeads, dim, context, position, rows, hidden, experts, topK, inter;\n"
    << "  int cacheRowBytes; // attention: one position of one KV head: 4 dim (f32), 2 dim (bf16), dim + 4 (int8)\n"
    << "  long long weightOffsets[4]; // linear: w; MoE: router, gate, up, down\n"
    << "  const char *layout, *config; // pinned (--check), else empty\n"
    << "  const char *dot; // attention: its arithmetic (fma, bf16, bf16_emulated, amx, amx_emulated)\n"
    << "  bool roundsToBF16; // attention: that arithmetic rounds the queries and weights to bf16\n"
    << "  void *entry;\n};\n}\n\nusing qwen3c_abi::MemRef;\nextern \"C\" {\n";
  for (const auto &k : ks) {
    h << "void _mlir_ciface_" << k.name;
    if (k.kind == Kind::Attention)
      h << "(MemRef<3> *q, MemRef<4> *k, MemRef<4> *v, long long pos, MemRef<3> *out, ";
    else
      h << "(MemRef<2> *x, MemRef<2> *out, ";
    h << "MemRef<1> *weights, MemRef<1> *arena);\n";
  }
  h << "}\n\nnamespace qwen3c_kernels {\ninline const Kernel kKernels[] = {\n";
  auto offsetOf = [&](const std::string &name) -> long long {
    for (const auto &slot : plan->slots)
      if (slot.pattern == name) return slot.offsets.empty() ? -1 : slot.offsets[0];
    return -1;
  };
  for (const auto &k : ks) {
    std::vector<long long> offs;
    if (k.kind == Kind::Linear) offs = {offsetOf(k.name + ".weight")};
    if (k.kind == Kind::MoE)
      offs = {offsetOf(k.name + ".gate.weight"), offsetOf(k.name + ".experts.{expert}.gate_proj.weight"),
              offsetOf(k.name + ".experts.{expert}.up_proj.weight"),
              offsetOf(k.name + ".experts.{expert}.down_proj.weight")};
    offs.resize(4, -1);
    h << "  {\"" << k.name << "\", \"" << k.shape << "\", Kind::"
      << (k.kind == Kind::Linear ? "Linear" : k.kind == Kind::Attention ? "Attention" : "MoE") << ", " << k.m << ", "
      << k.k << ", " << k.n << ", " << k.heads << ", " << k.kvHeads << ", " << k.dim << ", " << k.context << ", "
      << k.position << ", " << k.rows << ", " << k.hidden << ", " << k.experts << ", " << k.topK << ", " << k.inter << ", " << (k.cache == "bf16" ? 2 * k.dim : k.cache == "i8" ? k.dim + 4 : 4 * k.dim) << ", {" << offs[0]
      << ", " << offs[1] << ", " << offs[2] << ", " << offs[3] << "}, \"" << k.layout << "\", \"" << k.config
      << "\", \"" << k.dot << "\", " << (k.roundsToBF16 ? "true" : "false") << ", reinterpret_cast<void *>(&_mlir_ciface_"
      << k.name << ")},\n";
  }
  h << "};\n} // namespace qwen3c_kernels\n";
  return h ? 0 : 1;
}
