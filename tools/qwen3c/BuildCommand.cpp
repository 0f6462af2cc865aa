//===- BuildCommand.cpp - `qwen3c build`: checkpoint to executable -----------===//
#include "codegen/CpuPipeline.h"
#include "codegen/GpuPipeline.h"
#include "codegen/Linker.h"
#include "codegen/WeightPacker.h"
#include "frontend/ChatTemplateFile.h"
#include "runtime/jinja/JinjaTemplate.h"
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"
#include "frontend/GraphBuilder.h"
#include "frontend/TensorInventory.h"
#include "passes/CostModel.h"
#include "passes/FusionPipeline.h"
#include "passes/LayerGraph.h"
#include "passes/TargetInfo.h"
#include "passes/WeightPlan.h"
#include "frontend/AtomicFile.h"
#include "frontend/PhaseHook.h"
#include "frontend/TempDir.h"
#include "runtime/ModelAbi.h"
#include "runtime/Tokenizer.h"
#include "runtime/WeightsFile.h"
#include "tools/qwen3c/Commands.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <unistd.h>

namespace fs = std::filesystem;

namespace q3c {
namespace {

struct BuildOptions {
  std::string checkpoint, output, dtype = "bf16", cpu = "host", features, weights = "auto", dot = "auto", int8Dot = "auto",
              decodeDot = "auto", weightsDtype = "auto", lmHeadDtype = "auto", kvDtype = "bf16";
  int64_t context = 0;
  int64_t decodeBatch = kDefaultDecodeBatch; // rows of @decode_batch; 0: none
  std::vector<int64_t> chunks; // --chunk; none: kDefaultPrefillChunks within the context
  bool contextGiven = false; // else min(4096, max_position_embeddings)
  bool verbose = false, fusionReport = false, profileKernels = false;
  int64_t reportPosition = 1024;
  std::string dumpAfter, dumpDir = "qwen3c-ir";
  q3::FusionOptions fusion;
  std::string graphDir;
  std::string asmPath; // --emit-asm
  std::string target = "cpu"; // --target: cpu or cuda
  GpuTarget gpu;              // --gpu-arch
  std::string ptxPath;        // --emit-ptx
};

// Writes DIR/<layer function>.<level>.dot (and .svg when Graphviz's `dot`
// is installed) for each decode layer function of `module`.
void writeLayerGraphs(mlir::ModuleOp module, const std::string &dir, const std::string &level,
                      const std::string &title) {
  fs::create_directories(dir);
  for (auto fn : module.getOps<mlir::func::FuncOp>()) {
    if (!fn->hasAttr("q3.layer_kind") || !fn.getSymName().starts_with("decode_") ||
        fn.getSymName().starts_with("decode_batch"))
      continue;
    std::string base = (fs::path(dir) / (fn.getSymName().str() + "." + level)).string();
    AtomicFile f(base + ".dot");
    std::string dot = q3::layerGraphDot(fn, fn.getSymName().str() + ", fusion " + title);
    f.write(dot.data(), dot.size());
    f.commit();
    std::string cmd = "command -v dot >/dev/null 2>&1 && dot -Tsvg '" + base + ".dot' -o '" + base + ".svg'";
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "qwen3c build: Graphviz 'dot' not found; wrote %s.dot only\n", base.c_str());
  }
}

// Weight bytes one decode step reads, from the plan (so int8 slots count
// their bytes): every instance once, the experts' by top_k / num_experts,
// an untied embedding not at all (one row per token).
int64_t decodeWeightBytes(const q3::WeightPlan &plan, const ModelConfig &c) {
  double bytes = 0;
  for (const auto &s : plan.slots) {
    if (s.pattern == "model.embed_tokens.weight" && !c.tieWordEmbeddings) continue;
    double share = s.pattern.find("{expert}") != std::string::npos ? double(c.numExpertsPerTok) / double(c.numExperts) : 1;
    for (int64_t offset : s.offsets)
      if (offset >= 0) bytes += double(s.bytes()) * share;
  }
  return int64_t(bytes);
}

// The format a stored type runs as when the build chooses: Q8_0 as int8,
// Q4_0 as int4 (both exactly), K-quants requantised to int8, dense as bf16.
std::string formatFor(DType t) {
  switch (t) {
  case DType::Q8_0: case DType::Q4_K: case DType::Q6_K: return "int8";
  case DType::Q4_0: return "int4";
  default: return "bf16";
  }
}

// Whether `format` holds a tensor of type `t` exactly (no new rounding).
bool holdsExactly(const std::string &format, DType t) {
  if (format == "int8") return t == DType::Q8_0 || t == DType::Q4_0;
  if (format == "int4") return t == DType::Q4_0;
  return t == DType::BF16;
}

// --weights-dtype / --lm-head-dtype auto: bf16 for a checkpoint folder; for
// a GGUF file the formats its tensors are stored in, so Q8_0 and Q4_0 files
// run as they are. The layers' projections and experts share one format:
// the widest their types need (a Q4_K_M file's Q4_K and Q6_K become int8).
// Says what it chose, and which tensors it rounds anew.
void chooseFormats(const Checkpoint &ck, BuildOptions &o) {
  const bool autoWeights = o.weightsDtype == "auto", autoHead = o.lmHeadDtype == "auto";
  if (!ck.isGguf()) {
    if (autoWeights) o.weightsDtype = "bf16";
    if (autoHead) o.lmHeadDtype = "bf16";
    return;
  }
  auto rank = [](const std::string &f) { return f == "bf16" ? 2 : f == "int8" ? 1 : 0; };
  std::map<DType, int> layerTypes; // stored type -> tensors
  std::string layers = "int4";
  for (const auto &[name, v] : ck.tensors()) {
    // The layers' projections and experts (not norms, not the router).
    const bool projection = name.find("_proj.") != std::string::npos;
    if (!projection) continue;
    ++layerTypes[v->dtype];
    if (rank(formatFor(v->dtype)) > rank(layers)) layers = formatFor(v->dtype);
  }
  if (autoWeights) o.weightsDtype = layers;
  const TensorView &head = ck.tensor("lm_head.weight");
  if (autoHead) o.lmHeadDtype = o.weightsDtype == "bf16" ? "bf16" : formatFor(head.dtype);
  std::string stored, requantised;
  for (const auto &[type, n] : layerTypes) {
    stored += (stored.empty() ? "" : "+") + std::string(dtypeName(type));
    if (!holdsExactly(o.weightsDtype, type)) requantised += (requantised.empty() ? "" : ", ") + std::string(dtypeName(type));
  }
  std::fprintf(stderr, "qwen3c build: %s: layer weights %s as %s%s, LM head %s as %s%s\n", ck.dir().c_str(),
               stored.c_str(), o.weightsDtype.c_str(), requantised.empty() ? " (exact)" : (" (" + requantised + " rounded anew)").c_str(),
               dtypeName(head.dtype), o.lmHeadDtype.c_str(), holdsExactly(o.lmHeadDtype, head.dtype) ? " (exact)" : " (rounded anew)");
}

void build(BuildOptions o) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto dt = parseTorchDType(o.dtype);
  if (!dt || *dt == DType::F16) fail("--dtype: '", o.dtype, "' is not bf16 or f32");
  if (fs::is_directory(o.output)) fail(o.output, ": is a folder, not an executable path");
  if (o.weights != "auto" && o.weights != "embed" && o.weights != "sidecar")
    fail("--weights: '", o.weights, "' is not auto, embed or sidecar");
  auto isFormat = [](const std::string &f) { return f == "auto" || f == "bf16" || f == "int8" || f == "int4"; };
  if (!isFormat(o.weightsDtype)) fail("--weights-dtype: '", o.weightsDtype, "' is not auto, bf16, int8 or int4");
  if (!isFormat(o.lmHeadDtype)) fail("--lm-head-dtype: '", o.lmHeadDtype, "' is not auto, bf16, int8 or int4");
  auto kvDt = parseCacheDType(o.kvDtype);
  if (!kvDt || *kvDt == CacheDType::F16) fail("--kv-dtype: '", o.kvDtype, "' is not bf16, f32 or int8");
  Checkpoint ck = Checkpoint::open(o.checkpoint);
  chooseFormats(ck, o); // auto made concrete: the check covers explicit and chosen formats alike
  if (o.lmHeadDtype != "bf16" && o.weightsDtype == "bf16")
    fail("--lm-head-dtype ", o.lmHeadDtype, " needs --weights-dtype int8 or int4");
  const bool cuda = o.target == "cuda";
  if (o.target != "cpu" && !cuda) fail("--target: '", o.target, "' is not cpu or cuda");
  if (!cuda && !o.ptxPath.empty()) fail("--emit-ptx: only a --target cuda build has PTX");
  if (cuda) {
    // What the GPU code generator lowers today; the rest fails here in the
    // flags' words rather than deep in the lowering.
    checkGpuTarget(o.gpu);
    if (o.weightsDtype != "bf16")
      fail("--target cuda: --weights-dtype ", o.weightsDtype, " is not lowered for the GPU yet (bf16 only)");
    if (*kvDt == CacheDType::Int8) fail("--target cuda: --kv-dtype int8 is not lowered for the GPU yet (bf16 or f32)");
    if (o.profileKernels) fail("--target cuda: --profile-kernels times CPU kernels only");
    if (o.cpu != "host" || !o.features.empty() || o.dot != "auto" || o.int8Dot != "auto" || o.decodeDot != "auto")
      fail("--target cuda: --target-cpu, --target-features and the --*-dot choices are for the CPU target");
    o.cpu = "x86-64";  // the host code only launches kernels: any x86-64 runs it
  }
  const CpuTarget cpuTarget{o.cpu, o.features, o.dot, o.weightsDtype, o.lmHeadDtype, o.int8Dot, o.decodeDot, o.profileKernels};
  // An unknown CPU or a dot it cannot run fails here, in one line.
  const q3::TargetInfo target = describeTarget(cpuTarget);
  const ModelConfig &c = ck.config();
  // The chat template is interpreted at run time: checked whole now, so a
  // construct the interpreter lacks fails the build, not a conversation.
  std::optional<ChatTemplateFile> chatTemplate = ck.chatTemplate();
  if (chatTemplate) try {
      qwen3c_rt::JinjaTemplate::parse(chatTemplate->source);
    } catch (const qwen3c_rt::JinjaError &e) {
      fail(chatTemplate->path, ": chat_template: ", e.what());
    }
  // The tokenizer too, before any compiling: a bad one fails the build at once.
  std::unique_ptr<qwen3c_rt::Tokenizer> tokenizer;
  if (auto tj = ck.tokenizerJson()) tokenizer = qwen3c_rt::Tokenizer::fromJson(tj->json, tj->source);
  if (!o.contextGiven) o.context = c.defaultContext();
  if (o.context < 1 || o.context > c.positionLimit())
    fail("--max-context: ", o.context, " is outside 1..", c.positionLimit(),
         c.yarn ? " (YaRN's factor * original_max_position_embeddings)" : " (max_position_embeddings)");
  GraphOptions g;
  g.maxContext = o.context;
  setDecodeBatch(g, o.decodeBatch);
  setPrefillChunks(g, o.chunks);
  // The logits-free prompt entries: @prefill_nologits, then each prompt-only size.
  std::vector<int64_t> promptChunks{g.prefillChunk};
  promptChunks.insert(promptChunks.end(), g.promptChunks.begin(), g.promptChunks.end());
  const std::string chunkList = llvm::join(llvm::map_range(promptChunks, [](int64_t T) { return std::to_string(T); }), ",");
  if (o.verbose)
    std::fprintf(stderr, "qwen3c build: max context %lld positions%s, prefill chunks %s\n", (long long)o.context,
                 o.contextGiven ? "" : " (default: min(4096, max_position_embeddings))", chunkList.c_str());
  g.cacheDType = *kvDt;
  g.weightDType = [&](const std::string &) { return *dt; };
  mlir::MLIRContext ctx;
  // Diagnostics from the passes become one error line.
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return mlir::success();
  });
  auto module = buildModel(ctx, c, g);
  std::string fusionError;
  std::vector<std::string> fusionPasses = q3::selectFusionPasses(o.fusion, fusionError);
  if (!fusionError.empty()) fail(fusionError);
  std::string fusionName = o.fusion.level;
  if (!o.fusion.enable.empty() || !o.fusion.disable.empty()) fusionName += " (adjusted)";
  if (o.fusionReport || !o.graphDir.empty()) {
    // The graph at the chosen level beside the unfused one.
    mlir::OwningOpRef<mlir::ModuleOp> fused(llvm::cast<mlir::ModuleOp>((*module)->clone()));
    if (mlir::failed(runFusion(*fused, fusionPasses))) fail("fusion failed: ", diagnostics);
    if (o.fusionReport) {
      int64_t position = std::min(o.reportPosition, o.context - g.prefillChunk);
      std::string passes;
      for (const auto &p : fusionPasses) passes += (passes.empty() ? "" : ", ") + p;
      std::printf("Fusion report (%s), per token.\n\nNo fusion:\n\n%s\nFusion %s (%s):\n\n%s\n%s\n",
                  o.checkpoint.c_str(), q3::renderCostReport(*module, position).c_str(), fusionName.c_str(),
                  passes.empty() ? "no passes" : passes.c_str(), q3::renderCostReport(*fused, position).c_str(),
                  q3::renderCostComparison(*module, *fused, position, fusionName).c_str());
    }
    if (!o.graphDir.empty()) {
      writeLayerGraphs(*module, o.graphDir, "none", "none");
      writeLayerGraphs(*fused, o.graphDir, o.fusion.level, fusionName);
    }
  }
  phaseReached("lower");
  if (!o.dumpAfter.empty()) fs::create_directories(o.dumpDir);
  setIRDump({o.dumpAfter, o.dumpDir});
  // The GPU's fusion report: kernel launches per decoded token, unfused and
  // at the chosen level (each launch costs a few microseconds of its own).
  std::optional<int64_t> unfusedLaunches;
  if (cuda && o.fusionReport) {
    mlir::OwningOpRef<mlir::ModuleOp> unfused(llvm::cast<mlir::ModuleOp>((*module)->clone()));
    if (mlir::failed(runQ3GpuLowering(*unfused, {}, o.gpu))) fail("q3 lowering failed: ", diagnostics);
    unfusedLaunches = gpuLaunchesPerCall(*unfused, "decode");
  }
  if (cuda ? mlir::failed(runQ3GpuLowering(*module, fusionPasses, o.gpu))
           : mlir::failed(runQ3Lowering(*module, fusionPasses, cpuTarget)))
    fail("q3 lowering failed: ", diagnostics);
  if (unfusedLaunches)
    std::printf("GPU kernel launches per decoded token (cuda %s): fusion none %lld, fusion %s %lld\n", o.gpu.arch.c_str(),
                (long long)*unfusedLaunches, fusionName.c_str(), (long long)gpuLaunchesPerCall(*module, "decode"));
  if (cuda && o.verbose)
    std::fprintf(stderr, "qwen3c build: target cuda %s (PTX ISA %lld.%lld, JIT-compiled by the driver); host code x86-64\n",
                 o.gpu.arch.c_str(), (long long)(o.gpu.ptxVersion / 10), (long long)(o.gpu.ptxVersion % 10));
  if (o.verbose)
    if (auto t = (*module)->getAttrOfType<q3::TargetAttr>(q3::kTargetAttrName))
      std::fprintf(stderr, "qwen3c build: target %s: %lld-bit vectors, %lld vector registers; features %s\n",
                   t.getCpu().str().c_str(), (long long)t.getVectorBits(), (long long)t.getVectorRegisters(),
                   t.getFeatures().str().c_str());
  auto plan = q3::WeightPlan::read(*module);
  auto arena = (*module)->getAttrOfType<mlir::IntegerAttr>("q3.arena_bytes");
  auto unplanned = (*module)->getAttrOfType<mlir::IntegerAttr>("q3.arena_bytes_unplanned");
  if (!plan || !arena) fail("internal error: the q3 lowering left no weight plan");
  // x86-64's default code model reaches 2 GiB: a larger blob cannot be
  // linked into the executable.
  constexpr int64_t kMaxEmbeddedBytes = int64_t(3) << 29; // 1.5 GiB, leaving room for code and data
  const bool tooBig = plan->totalBytes > kMaxEmbeddedBytes;
  if (o.weights == "embed" && tooBig)
    fail(o.checkpoint, ": ", double(plan->totalBytes) / double(1 << 30),
         " GiB of weights are too many to embed in an executable (at most 1.5 GiB); use --weights sidecar or auto");
  const bool sidecar = o.weights == "sidecar" || (o.weights == "auto" && tooBig);
  if (sidecar && o.weights == "auto")
    std::fprintf(stderr, "qwen3c build: %.2f GiB of weights go to %s.weights beside the executable (more than an "
                         "executable can embed)\n", double(plan->totalBytes) / double(1 << 30), o.output.c_str());
  if (cuda ? mlir::failed(runGpuLLVMLowering(*module, o.gpu)) : mlir::failed(runLLVMLowering(*module)))
    fail("LLVM lowering failed: ", diagnostics);
  if (!o.ptxPath.empty()) writeFileAtomically(o.ptxPath, ptxOf(*module));
  auto t1 = clock::now();

  // The blob: a temporary that the linker embeds, or the sidecar file
  // (header first, committed only once the executable is linked).
  TempDir tmp("qwen3c-build");
  std::string blobPath = sidecar ? o.output + ".weights" : tmp.file("weights.bin");
  AtomicFile blob(blobPath);
  if (sidecar) {
    std::vector<char> zeros(qwen3c_abi::kWeightsHeaderBytes, 0);
    blob.write(zeros.data(), zeros.size());
  }
  phaseReached("pack");
  uint64_t checksum = packWeights(ck, *plan, blob);
  // The model id: the config, the compiled shapes and the weights themselves.
  qwen3c_abi::Checksum id;
  std::string identity = c.toJson().dump() + std::to_string(o.context) + "/" + chunkList +
                         "/" + o.dtype + "/" + std::to_string(checksum);
  for (const auto &p : fusionPasses) identity += "/" + p;
  if (cuda) identity += "/cuda:" + o.gpu.arch;
  id.add(identity.data(), identity.size());
  if (sidecar) {
    qwen3c_abi::WeightsHeader h{};
    std::memcpy(h.magic, qwen3c_abi::kWeightsMagic, 8);
    h.blobBytes = uint64_t(plan->totalBytes);
    h.checksum = checksum;
    h.modelId = id.value();
    blob.writeAt(0, &h, sizeof h);
  } else {
    blob.commit();
  }
  auto t2 = clock::now();

  using namespace qwen3c_abi;
  std::vector<int64_t> info(kModelInfoSize, 0);
  info[kAbiVersion] = kCurrentAbiVersion;
  info[kNumLayers] = c.numLayers;
  info[kKVHeads] = c.numKVHeads;
  info[kContext] = o.context;
  info[kHeadDim] = c.headDim;
  info[kPrefillChunk] = g.prefillChunk;
  info[kNumPromptChunks] = int64_t(promptChunks.size());
  info[kDecodeBatch] = g.decodeBatch;
  info[kVocab] = c.vocabSize;
  info[kArenaBytes] = arena.getInt();
  info[kWeightBytes] = plan->totalBytes;
  info[kCacheDType] = *kvDt == CacheDType::F32 ? 0 : *kvDt == CacheDType::BF16 ? 1 : 3;
  info[kBos] = c.bosTokenId;
  info[kNumEos] = std::min<int64_t>(4, int64_t(c.eosTokenIds.size()));
  for (int64_t i = 0; i < info[kNumEos]; ++i) info[kEos0 + i] = c.eosTokenIds[size_t(i)];
  info[kDecodeWeightBytes] = decodeWeightBytes(*plan, c);
  info[kWeightsMode] = sidecar ? 1 : 0;
  info[kWeightsChecksum] = int64_t(checksum);
  info[kModelId] = int64_t(id.value());
  std::string object = tmp.file("model.o");
  phaseReached("codegen");
  emitObject(*module, info, promptChunks, target, object, o.asmPath);
  auto t3 = clock::now();
  std::vector<EmbeddedBlob> blobs;
  if (!sidecar) blobs.push_back({blobPath, "qwen3c_weights"});
  if (tokenizer) {
    // The tokenizer travels inside the executable in its binary form (loads
    // in a fraction of tokenizer.json's parse time).
    std::string bin = tmp.file("tokenizer.bin");
    writeFileAtomically(bin, tokenizer->serialize());
    blobs.push_back({bin, "qwen3c_tokenizer"});
  }
  if (chatTemplate) {
    std::string file = tmp.file("chat_template.jinja");
    writeFileAtomically(file, chatTemplate->source);
    blobs.push_back({file, "qwen3c_chat_template"});
  }
  // Between the link and the sidecar's commit the executable exists without
  // its weights: a signal there removes it.
  std::optional<RemoveOnSignal> executableOnSignal;
  executableOnSignal.emplace(fs::absolute(o.output).string());
  linkExecutable({object}, blobs, o.output);
  if (sidecar) {
    try {
      blob.commit();
    } catch (...) {
      fs::remove(o.output); // an executable without its weights is no use
      throw;
    }
  }
  auto t4 = clock::now();
  executableOnSignal.reset();
  if (o.verbose) {
    auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    std::fprintf(stderr,
                 "qwen3c build: lower %.2fs, pack %.2fs (%.1f MiB), codegen %.2fs, link %.2fs; arena %.1f KiB "
                 "(%.1f KiB without reuse)\n",
                 s(t0, t1), s(t1, t2), double(plan->totalBytes) / (1 << 20), s(t2, t3), s(t3, t4),
                 double(arena.getInt()) / 1024, unplanned ? double(unplanned.getInt()) / 1024 : 0.0);
  }
}

} // namespace

void addBuildCommand(CLI::App &app) {
  auto o = std::make_shared<BuildOptions>();
  auto *cmd = app.add_subcommand("build", "compile a checkpoint into a standalone executable");
  cmd->add_option("checkpoint", o->checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("-o,--output", o->output, "executable to write")->required();
  cmd->add_option("--dtype", o->dtype, "weight type in the executable: bf16 or f32")->capture_default_str();
  auto *context =
      cmd->add_option("--max-context", o->context, "KV-cache capacity (default min(4096, max_position_embeddings))");
  cmd->add_option("--chunk", o->chunks,
                  "prefill chunk lengths, increasing (default 16,64,256, those within the context): a prompt runs "
                  "in the chunks that pad it least; the first also gives every row's logits (--dump-logits)")
      ->delimiter(',');
  cmd->add_option("--decode-batch", o->decodeBatch,
                  "rows of @decode_batch, the server's step over several sequences at once (one pass over the "
                  "weights for all; 0 or 1: none)")
      ->capture_default_str();
  cmd->add_option("--target-cpu", o->cpu, "LLVM CPU name, or host")->capture_default_str();
  cmd->add_option("--target-features", o->features, "extra LLVM target features (+avx512bf16,...)");
  cmd->add_option("--weights-dtype", o->weightsDtype,
                  "the layers' projection weights: bf16 (as --dtype), int8 (symmetric per group of 32 k with an f16 "
                  "scale, llama.cpp's Q8_0) or int4 (per group of 32 k, llama.cpp's Q4_0), MoE experts too; the "
                  "embedding and the LM head stay --dtype. auto: bf16, or for a GGUF file the format its tensors are in "
                  "(Q8_0 and Q4_0 as they are, K-quants as int8)")
      ->capture_default_str();
  cmd->add_option("--lm-head-dtype", o->lmHeadDtype,
                  "with --weights-dtype int8 or int4: the LM head's (and a tied embedding's), bf16, int8 or int4; "
                  "auto: bf16, or for a GGUF file the format of its LM head")
      ->capture_default_str();
  cmd->add_option("--kv-dtype", o->kvDtype,
                  "KV-cache element type: bf16 (half the bytes decode attention reads), f32 (exact, for "
                  "comparisons with the reference) or int8 (each position's row of a KV head as int8 with one "
                  "f32 scale: about a quarter of f32's bytes)")
      ->capture_default_str();
  cmd->add_option("--prefill-dot", o->dot,
                  "prefill products: auto (amx where the target has AMX-BF16, else bf16 where it has AVX512-BF16, "
                  "else fma), fma (exact f32), bf16 (vdpbf16ps on activations rounded to bf16), amx (AMX tiles on "
                  "the same), bf16-emulated / amx-emulated (the same arithmetic by FMAs, any CPU)")
      ->capture_default_str();
  cmd->add_option("--int8-dot", o->int8Dot,
                  "int8 weights' products: auto (i8 where the target has AVX512-VNNI, else i8-madd where it has "
                  "AVX2 and no AVX-512, else fma), i8 (activations quantised per row and group of 32 to int8, integer dots by "
                  "vpdpbusd), i8-madd (the same integers by AVX2's vpmaddubsw + vpmaddwd), fma (activations in f32, "
                  "weights widened: exact against the dequantised weights), i8-emulated (i8's arithmetic in plain "
                  "vector ops, any CPU)")
      ->capture_default_str();
  cmd->add_option("--decode-dot", o->decodeDot,
                  "decode products on bf16 weights: auto (where prefill runs bf16 or bf16-emulated, decode too: "
                  "activations rounded to bf16, as in prefill), fma (exact f32 activations)")
      ->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "embed: weights inside the executable; sidecar: in EXE.weights, read at start-up; "
                  "auto: embed up to 1.5 GiB")
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", o->verbose, "print the time of each step");
  cmd->add_flag("--profile-kernels", o->profileKernels,
                "time every kernel (q3-profile-kernels): the executable's --profile then prints each kernel's "
                "calls and time, named by the blocks it computes");
  cmd->add_flag("--fusion-report", o->fusionReport,
                "print kernels, activation/weight bytes and FLOPs per layer and token (from the IR)");
  cmd->add_option("--report-position", o->reportPosition, "KV position the report's attention costs are taken at")
      ->capture_default_str();
  cmd->add_option("--fusion", o->fusion.level,
                  "none: one kernel per graph op; basic: epilogue/prologue fusions; all: also stacked and "
                  "folded weights (see docs/fusion.md)")
      ->capture_default_str();
  cmd->add_option("--enable-pass", o->fusion.enable, "also run this fusion pass (repeatable, or comma-separated)")
      ->delimiter(',');
  cmd->add_option("--disable-pass", o->fusion.disable, "skip this fusion pass (repeatable, or comma-separated)")
      ->delimiter(',');
  cmd->add_option("--graph-dot", o->graphDir,
                  "write each decode layer's graph before and after fusion as Graphviz dot (and SVG with dot) here");
  cmd->add_option("--dump-ir-after", o->dumpAfter, "write the IR after this pass (its flag, e.g. q3-lower-to-loops) "
                                                   "or after every pass ('all')");
  cmd->add_option("--dump-dir", o->dumpDir, "where --dump-ir-after writes")->capture_default_str();
  cmd->add_option("--emit-asm", o->asmPath, "also write the model's machine code as assembly to this file");
  cmd->add_option("--target", o->target,
                  "where the model runs: cpu (this CPU, or --target-cpu), or cuda (an NVIDIA GPU: kernels as PTX inside "
                  "the executable, run through the CUDA driver, which the executable opens at start-up; dense and MoE "
                  "models, bf16 or f32 weights and caches)")
      ->capture_default_str();
  cmd->add_option("--gpu-arch", o->gpu.arch, "with --target cuda: the PTX target, sm_70 or later")->capture_default_str();
  cmd->add_option("--emit-ptx", o->ptxPath, "with --target cuda: also write the kernels' PTX to this file");
  cmd->callback([o, context] {
    o->contextGiven = context->count() > 0;
    build(*o);
  });
}

} // namespace q3c
