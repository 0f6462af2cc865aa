//===- InspectCommand.cpp - `qwen3c inspect`: what a user checks first ------===//
#include "frontend/AtomicFile.h"
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"
#include "frontend/GgufFile.h"
#include "frontend/GraphBuilder.h"
#include "frontend/TensorInventory.h"
#include "tools/qwen3c/Commands.h"

#include <cstdio>
#include <optional>

namespace q3c {
namespace {

std::string human(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}

std::string count(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2fB", double(n) / 1e9);
  else std::snprintf(buf, sizeof buf, "%.2fM", double(n) / 1e6);
  return buf;
}

// A GGUF file: what llama.cpp's metadata says of the model, and its tensors
// by type; returns general.architecture.
std::string inspectGguf(const std::string &path, bool tensors) {
  GgufFile f = readGguf(path);
  std::string arch = f.string("general.architecture").value_or("");
  std::printf("gguf          %s (v%u, %zu tensors, %zu metadata keys)\n", path.c_str(), f.version, f.tensors.size(),
              f.strings.size() + f.integers.size() + f.floats.size() + f.stringArrays.size() + f.integerArrays.size());
  std::printf("architecture  %s\n", arch.empty() ? "(none)" : arch.c_str());
  if (auto name = f.string("general.name")) std::printf("name          %s\n", name->c_str());
  for (const char *key : {"block_count", "embedding_length", "feed_forward_length", "attention.head_count",
                          "attention.head_count_kv", "attention.key_length", "context_length", "expert_count",
                          "expert_used_count", "expert_feed_forward_length"})
    if (auto it = f.integers.find(arch + "." + key); it != f.integers.end())
      std::printf("%-26s %lld\n", key, (long long)it->second);
  std::printf("tied output   %s\n", f.tensor("output.weight") ? "no" : "yes");
  std::map<std::string, std::pair<int, uint64_t>> byType;
  uint64_t total = 0;
  for (const auto &t : f.tensors) {
    auto &e = byType[t.type->name];
    e.first++;
    e.second += t.bytes;
    total += t.bytes;
  }
  for (const auto &[type, e] : byType)
    std::printf("type          %-5s %d tensors, %s\n", type.c_str(), e.first, human(double(e.second)).c_str());
  std::printf("weights       %s\n", human(double(total)).c_str());
  if (tensors) {
    std::printf("\n%-48s %-5s %s\n", "tensor", "type", "dims (ggml order)");
    for (const auto &t : f.tensors) {
      std::string dims;
      for (int64_t d : t.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
      std::printf("%-48s %-5s %s\n", t.name.c_str(), t.type->name, dims.c_str());
    }
  }
  return arch;
}

// One GGUF tensor dequantised to f32 (ggml order, little-endian), as a
// build reads it: what tests compare with gguf-py's dequantisation.
void dequantiseGgufTensor(const std::string &path, const std::string &name, const std::string &out) {
  auto file = MappedGguf::open(path);
  const GgufTensor *t = file->file().tensor(name);
  if (!t) fail(path, ": no tensor '", name, "'");
  std::optional<DType> dtype = dtypeOfGgmlType(t->type->id);
  if (!dtype) fail(path, ": tensor '", name, "' is ", t->type->name, ", which qwen3c does not read");
  const size_t n = size_t(t->bytes / uint64_t(t->type->bytes) * uint64_t(t->type->block));
  std::vector<float> values(n);
  toF32(*dtype, file->data(*t), values.data(), n);
  AtomicFile f(out);
  f.write(values.data(), n * 4);
  f.commit();
}

void inspect(const std::string &dir, bool tensors, int64_t context) {
  const bool gguf = dir.size() > 5 && dir.compare(dir.size() - 5, 5, ".gguf") == 0;
  if (gguf) {
    // Then, for a qwen3 / qwen3moe file, what qwen3c reads it as.
    std::string arch = inspectGguf(dir, tensors);
    if (arch != "qwen3" && arch != "qwen3moe") return;
    std::printf("\nas qwen3c reads it:\n");
    tensors = false; // listed above, by their GGUF names
  }
  Checkpoint ck = Checkpoint::open(dir);
  const ModelConfig &c = ck.config();
  std::printf("checkpoint    %s\n", dir.c_str());
  std::printf("architecture  %s\n", c.architecture.c_str());
  std::printf("layers        %lld (hidden %lld, head_dim %lld, heads %lld q / %lld kv, GQA group %lld)\n",
              (long long)c.numLayers, (long long)c.hiddenSize, (long long)c.headDim,
              (long long)c.numHeads, (long long)c.numKVHeads, (long long)(c.numHeads / c.numKVHeads));
  if (c.moe) {
    int64_t sparse = 0;
    for (int64_t l = 0; l < c.numLayers; ++l) sparse += c.isSparseLayer(l);
    std::printf("experts       %lld, top-%lld, width %lld, norm_topk_prob %s; %lld sparse / %lld dense layers\n",
                (long long)c.numExperts, (long long)c.numExpertsPerTok,
                (long long)c.moeIntermediateSize, c.normTopkProb ? "true" : "false",
                (long long)sparse, (long long)(c.numLayers - sparse));
  }
  if (c.intermediateSize) std::printf("dense FFN     %lld\n", (long long)c.intermediateSize);
  std::printf("vocabulary    %lld, tied embeddings %s\n", (long long)c.vocabSize,
              c.tieWordEmbeddings ? "yes" : "no");
  std::printf("rope_theta    %g, rms_norm_eps %g, max positions %lld\n", c.ropeTheta,
              c.rmsNormEps, (long long)c.maxPositionEmbeddings);
  if (c.yarn)
    std::printf("rope scaling  yarn: factor %g over %lld original positions (beta_fast %g, beta_slow %g, attention "
                "factor %.6g)\n",
                c.yarn->factor, (long long)c.yarn->originalContext, c.yarn->betaFast, c.yarn->betaSlow,
                c.yarn->attentionFactor);
  std::printf("parameters    %s total", count(c.parameterCount()).c_str());
  if (c.moe) std::printf(", %s active per token", count(c.activeParameterCount()).c_str());
  std::printf("\n");
  if (gguf)
    std::printf("files         1 GGUF file, %zu tensors by Hugging Face name, %s of weights\n", ck.tensors().size(),
                human(double(ck.weightBytes())).c_str());
  else
    std::printf("files         %zu safetensors, %zu tensors, %s of weights\n", ck.files().size(), ck.tensors().size(),
                human(double(ck.weightBytes())).c_str());
  // K and V rows of every layer and KV head (int8: head_dim bytes and a scale).
  auto kvPerToken = [&](CacheDType t) { return 2 * c.numLayers * c.numKVHeads * cacheRowBytes(t, c.headDim); };
  const int64_t bf16PerToken = kvPerToken(CacheDType::BF16);
  std::printf("KV cache      %s per token; %s at %lld tokens (bf16), %s (f32), %s (int8)\n",
              human(double(bf16PerToken)).c_str(), human(double(bf16PerToken * context)).c_str(), (long long)context,
              human(double(kvPerToken(CacheDType::F32) * context)).c_str(),
              human(double(kvPerToken(CacheDType::Int8) * context)).c_str());
  std::printf("memory        ~%s to run at %lld tokens with bf16 weights and cache\n",
              human(double(c.parameterCount() * 2 + bf16PerToken * context)).c_str(),
              (long long)context);
  auto tokenizer = ck.tokenizerJson();
  std::printf("tokenizer     %s\n", tokenizer ? tokenizer->source.c_str() : "(none)");
  std::map<std::string, std::pair<int, int64_t>> byDtype;
  for (const auto &[name, v] : ck.tensors()) {
    auto &e = byDtype[dtypeName(v->dtype)];
    e.first++;
    e.second += int64_t(v->nbytes);
  }
  for (const auto &[dt, e] : byDtype)
    std::printf("dtype         %-5s %d tensors, %s\n", dt.c_str(), e.first, human(double(e.second)).c_str());
  if (tensors) {
    std::printf("\n%-64s %-5s %s\n", "tensor", "dtype", "shape");
    for (const auto &spec : expectedTensors(c)) {
      const TensorView &v = ck.tensor(spec.name);
      std::printf("%-64s %-5s %s\n", spec.name.c_str(), dtypeName(v.dtype), shapeString(v.shape).c_str());
    }
  }
}

} // namespace

void addInspectCommand(CLI::App &app) {
  auto dir = std::make_shared<std::string>();
  auto tensors = std::make_shared<bool>(false);
  auto context = std::make_shared<int64_t>(4096);
  auto *cmd = app.add_subcommand("inspect", "architecture, size and tensor inventory of a checkpoint (or a .gguf file)");
  cmd->add_option("checkpoint", *dir, "Hugging Face checkpoint folder, or a GGUF file")->required();
  cmd->add_flag("--tensors", *tensors, "list every tensor with dtype and shape");
  auto dequantise = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  cmd->add_option("--dequantise", *dequantise, "a GGUF file's tensor NAME, written as f32 (ggml order) to -o");
  cmd->add_option("-o,--output", *output, "with --dequantise: the file to write");
  cmd->add_option("-c,--context", *context, "context length for the memory estimate")->capture_default_str();
  cmd->callback([=] {
    if (dequantise->empty()) return inspect(*dir, *tensors, *context);
    if (output->empty()) fail("--dequantise needs -o FILE");
    dequantiseGgufTensor(*dir, *dequantise, *output);
  });
}

} // namespace q3c
