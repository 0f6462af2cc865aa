//===- ExplainCommand.cpp - `qwen3c explain`: a block from formula to instructions ===//
//
// Runs the pipeline `qwen3c build` runs (fusion, target, strategy, weight
// plan, inlining, q3-kernel-locations, lowering, the LLVM conversions, O3,
// assembly) on a model's graph and, for each building block of Qwen3, shows
// what each stage made of it: the graph builder's ops, the fusions, the
// strategy's choices, the cost model's bytes and FLOPs, the loop nest and the
// innermost loop's machine code. Stages are snapshots taken by a pass
// instrumentation; a block's ops are found by their locations (Hugging Face
// module names, then kernel numbers), never by a list here.
//
//===----------------------------------------------------------------------===//
#include "codegen/CpuPipeline.h"
#include "frontend/Checkpoint.h"
#include "frontend/Error.h"
#include "frontend/GraphBuilder.h"
#include "frontend/TempDir.h"
#include "frontend/ModelConfig.h"
#include "passes/CostModel.h"
#include "passes/FusionPipeline.h"
#include "passes/KernelLocation.h"
#include "passes/LayerGraph.h"
#include "passes/TargetInfo.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/Subprocess.h"
#include "tools/qwen3c/explain/AsmListing.h"
#include "tools/qwen3c/explain/BuildingBlocks.h"
#include "tools/qwen3c/explain/ExplainReport.h"
#include "tools/qwen3c/explain/LoopNestExcerpt.h"

#include "dialect/Q3Ops.h"
#include "frontend/AtomicFile.h"
#include "mlir/Dialect/Func/Extensions/InlinerExtension.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace mlir;

namespace q3c {
namespace {

struct ExplainOptions {
  std::string input, block = "all", cpu = "host", features, dot = "auto", int8Dot = "auto", decodeDot = "auto", weightsDtype = "bf16",
              lmHeadDtype = "bf16", kvDtype = "bf16", dtype = "bf16", html;
  q3::FusionOptions fusion;
  bool decode = false, prefill = false, measure = false;
  int64_t chunk = 16, context = 0, position = 1024, lines = 24, threads = 0;
};

using explain::BuildingBlock;

// The stages of the pipeline, as the instrumentation saw them.
struct Snapshots : PassInstrumentation {
  std::set<std::string> fusionPasses;
  std::vector<std::string> functions; // the entry and its layer functions
  OwningOpRef<ModuleOp> afterFusion, strategy, lowered;
  std::vector<explain::FusionEvent> events;
  std::set<std::string> seen; // op signatures so far

  std::vector<Operation *> q3Ops(ModuleOp m) {
    std::vector<Operation *> ops;
    for (const std::string &f : functions)
      if (auto fn = m.lookupSymbol<func::FuncOp>(f))
        fn.walk([&](Operation *op) {
          if (q3::isKernelOp(op)) ops.push_back(op);
        });
    return ops;
  }
  static std::string signature(Operation *op) {
    std::string s = op->getName().getStringRef().str();
    for (NamedAttribute a : op->getAttrs()) s += "|" + a.getName().str();
    for (const std::string &n : q3::blockNames(op->getLoc())) s += "@" + n;
    return s;
  }
  void start(ModuleOp m) {
    for (Operation *op : q3Ops(m)) seen.insert(signature(op));
  }
  void runBeforePass(Pass *pass, Operation *op) override {
    if (pass->getArgument() == "q3-add-logits-free-prefill") afterFusion = cast<ModuleOp>(op->clone());
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    std::string arg = pass->getArgument().str();
    auto m = cast<ModuleOp>(op);
    if (fusionPasses.count(arg)) {
      for (Operation *o : q3Ops(m)) {
        if (!seen.insert(signature(o)).second) continue;
        events.push_back({arg, o->getName().getStringRef().str(), q3::blockNames(o->getLoc())});
      }
    }
    if (arg == "q3-kernel-locations") strategy = cast<ModuleOp>(op->clone());
    if (arg == "q3-lower-to-loops") lowered = cast<ModuleOp>(op->clone());
  }
};

std::string printed(Operation *op, AsmState &state) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os, state);
  return s;
}

std::string printedAttr(Attribute a) {
  std::string s;
  llvm::raw_string_ostream os(s);
  a.print(os);
  return s;
}

bool computesAny(const BuildingBlock &b, const std::vector<std::string> &names) {
  return llvm::any_of(names, [&](const std::string &n) { return explain::computes(b, n); });
}

// config.json as written (a folder or a .json file), else the model's own
// settings in Hugging Face's keys (a GGUF file).
nlohmann::json configJson(const std::string &path, const ModelConfig &c) {
  if (fs::exists(path) && !fs::is_directory(path) && fs::path(path).extension() == ".json") {
    std::ifstream in(path);
    return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  }
  return c.toJson();
}

// A layer function drawn by Graphviz (SVG), or its dot source when `dot`
// is not installed.
std::string layerPicture(func::FuncOp fn, const std::string &title) {
  std::string dot = q3::layerGraphDot(fn, title);
  char dir[] = "/tmp/qwen3c-explain-XXXXXX";
  if (!mkdtemp(dir)) return dot;
  std::string in = std::string(dir) + "/layer.dot", out = std::string(dir) + "/layer.svg";
  writeFileAtomically(in, dot);
  std::string cmd = "command -v dot >/dev/null 2>&1 && dot -Tsvg '" + in + "' -o '" + out + "' 2>/dev/null";
  std::string svg = dot;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream f(out);
    std::stringstream ss;
    ss << f.rdbuf();
    svg = ss.str();
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return svg;
}

// --measure: the model built as `qwen3c build --profile-kernels` would
// with the same options, run on a prompt that brings it to the explained
// position, and its kernel timers read back: (function, blocks) -> calls and
// seconds. `what` says what ran.
struct Measured {
  int64_t calls = 0;
  double seconds = 0;
};
std::map<std::string, Measured> measureKernels(const ExplainOptions &o, const ModelConfig &c, int64_t maxContext,
                                               int64_t position, bool prefill, std::string &what) {
  TempDir dir("qwen3c-measure");
  const std::string exe = dir.file("model"), prompt = dir.file("prompt.txt"), profile = dir.file("profile.json");
  std::vector<std::string> build = {selfExecutable(), "build", o.input, "-o", exe, "--profile-kernels",
                                    "--dtype", o.dtype, "--weights-dtype", o.weightsDtype, "--kv-dtype", o.kvDtype,
                                    "--max-context", std::to_string(maxContext), "--target-cpu", o.cpu,
                                    "--prefill-dot", o.dot, "--int8-dot", o.int8Dot, "--decode-dot", o.decodeDot, "--fusion", o.fusion.level};
  if (o.weightsDtype != "bf16") build.insert(build.end(), {"--lm-head-dtype", o.lmHeadDtype});
  if (!o.features.empty()) build.insert(build.end(), {"--target-features", o.features});
  for (const std::string &p : o.fusion.enable) build.insert(build.end(), {"--enable-pass", p});
  for (const std::string &p : o.fusion.disable) build.insert(build.end(), {"--disable-pass", p});
  if (prefill) build.insert(build.end(), {"--chunk", std::to_string(o.chunk)}); // the explained chunk alone
  ProcessResult b = runProcess(build);
  if (b.status != 0) fail("--measure: building the profiled model failed: ", b.lastErrorLine());

  // Decode: a prompt of `position` tokens, then 8 decode steps from there;
  // prefill: the prompt up to the explained chunk's end (every chunk counted).
  const int64_t decodeSteps = 8, promptTokens = std::max<int64_t>(1, prefill ? position + o.chunk : position);
  std::string ids;
  uint64_t x = 88172645463325252ull; // xorshift: the same prompt every run
  for (int64_t i = 0; i < promptTokens; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ids += std::to_string(x % uint64_t(std::min<int64_t>(c.vocabSize, 100000))) + (i + 1 < promptTokens ? " " : "\n");
  }
  writeFileAtomically(prompt, ids);
  std::vector<std::string> run = {exe, "--tokens-file", prompt, "-n", std::to_string(prefill ? 0 : decodeSteps),
                                  "--temp", "0", "--ignore-eos", "--profile-json", profile};
  if (o.threads > 0) run.insert(run.end(), {"-t", std::to_string(o.threads)});
  ProcessResult r = runProcess(run);
  if (r.status != 0) fail("--measure: running the profiled model failed: ", r.lastErrorLine());
  std::ifstream in(profile);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("kernels")) fail("--measure: the profiled model wrote no profile");
  std::map<std::string, Measured> out;
  for (const auto &k : j["kernels"]) {
    Measured &m = out[k["function"].get<std::string>() + "\t" + k["blocks"].get<std::string>()];
    m.calls += k["calls"].get<int64_t>();
    m.seconds += k["seconds"].get<double>();
  }
  what = "qwen3c build --profile-kernels, run on a prompt of " + std::to_string(promptTokens) + " tokens" +
         (prefill ? " in chunks of " + std::to_string(o.chunk) + " (every chunk's call counted)"
                  : " then " + std::to_string(decodeSteps) + " decode steps") +
         (o.threads > 0 ? ", " + std::to_string(o.threads) + " threads" : ", the executable's default threads") +
         "; a call is one layer's";
  return out;
}

void explainModel(const ExplainOptions &o) {
  if (o.decode && o.prefill) fail("--decode and --prefill: choose one");
  if (o.measure && !fs::is_directory(o.input) && fs::path(o.input).extension() == ".json")
    fail("--measure runs the model, so it needs weights: ", o.input,
         " is a config.json (qwen3c make-checkpoint writes a random-weight checkpoint of a preset shape)");
  const bool prefill = o.prefill;
  const std::string entry = prefill ? "prefill" : "decode";
  // The model: a folder's config.json (no weights needed), a config.json, or a GGUF file.
  std::string configPath = o.input;
  ModelConfig c;
  if (fs::is_directory(o.input)) {
    configPath = (fs::path(o.input) / "config.json").string();
    c = ModelConfig::load(configPath);
  } else if (fs::path(o.input).extension() == ".json") {
    c = ModelConfig::load(o.input);
  } else {
    c = Checkpoint::open(o.input).config();
  }
  nlohmann::json config = configJson(configPath, c);

  const std::vector<BuildingBlock> &all = explain::buildingBlocks();
  std::vector<const BuildingBlock *> chosen;
  for (const BuildingBlock &b : all)
    if (o.block == "all" || o.block == b.id) chosen.push_back(&b);
  if (chosen.empty()) {
    std::string ids;
    for (const BuildingBlock &b : all) ids += (ids.empty() ? "" : ", ") + b.id;
    fail("--block: '", o.block, "' is not a building block (", ids, ", or all)");
  }

  auto dt = parseTorchDType(o.dtype);
  if (!dt || *dt == DType::F16) fail("--dtype: '", o.dtype, "' is not bf16 or f32");
  auto kvDt = parseCacheDType(o.kvDtype);
  if (!kvDt || *kvDt == CacheDType::F16) fail("--kv-dtype: '", o.kvDtype, "' is not bf16, f32 or int8");
  auto isFormat = [](const std::string &f) { return f == "bf16" || f == "int8" || f == "int4"; };
  if (!isFormat(o.weightsDtype)) fail("--weights-dtype: '", o.weightsDtype, "' is not bf16, int8 or int4");
  if (!isFormat(o.lmHeadDtype)) fail("--lm-head-dtype: '", o.lmHeadDtype, "' is not bf16, int8 or int4");
  if (o.lmHeadDtype != "bf16" && o.weightsDtype == "bf16")
    fail("--lm-head-dtype ", o.lmHeadDtype, " needs --weights-dtype int8 or int4");
  const CpuTarget cpuTarget{o.cpu, o.features, o.dot, o.weightsDtype, o.lmHeadDtype, o.int8Dot, o.decodeDot};
  const q3::TargetInfo target = describeTarget(cpuTarget);
  std::string fusionError;
  std::vector<std::string> fusionPasses = q3::selectFusionPasses(o.fusion, fusionError);
  if (!fusionError.empty()) fail(fusionError);

  GraphOptions g;
  g.maxContext = o.context > 0 ? o.context : c.defaultContext();
  if (g.maxContext > c.positionLimit()) fail("--max-context: ", g.maxContext, " is over the model's ", c.positionLimit());
  if (o.chunk < 1 || o.chunk > g.maxContext) fail("--chunk: ", o.chunk, " is outside 1..", g.maxContext);
  setPrefillChunks(g, {o.chunk});
  setDecodeBatch(g, 0);
  g.cacheDType = *kvDt;
  g.weightDType = [&](const std::string &) { return *dt; };
  const int64_t T = prefill ? g.prefillChunk : 1;
  const int64_t position = std::max<int64_t>(0, std::min(o.position, g.maxContext - T));

  MLIRContext ctx;
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return success();
  });
  DialectRegistry registry;
  func::registerInlinerExtension(registry);
  ctx.appendDialectRegistry(registry);
  OwningOpRef<ModuleOp> module = buildModel(ctx, c, g);
  OwningOpRef<ModuleOp> graph(cast<ModuleOp>((*module)->clone()));

  auto snapshots = std::make_unique<Snapshots>();
  Snapshots *snap = snapshots.get();
  snap->fusionPasses.insert(fusionPasses.begin(), fusionPasses.end());
  snap->functions = {entry, entry + "_dense_layer", entry + "_moe_layer"};
  snap->start(*module);
  PassManager pm(&ctx); // owns the snapshots: lives as long as they are read
  addQ3CpuPipeline(pm, fusionPasses, cpuTarget);
  pm.addInstrumentation(std::move(snapshots));
  if (failed(pm.run(*module))) fail("q3 lowering failed: ", diagnostics);
  if (!snap->afterFusion || !snap->strategy || !snap->lowered)
    fail("internal error: the pipeline skipped a stage explain reads");
  // Only the explained entry goes on to machine code (the others would only cost time).
  for (auto fn : llvm::make_early_inc_range(module->getOps<func::FuncOp>()))
    if (fn.isPublic() && fn.getSymName() != entry) fn.erase();
  if (failed(runLLVMLowering(*module, /*lineTables=*/true))) fail("LLVM lowering failed: ", diagnostics);
  explain::AsmListing listing = explain::AsmListing::parse(emitAssembly(*module, target));
  std::map<std::string, Measured> measured;
  std::string measuredRun;
  if (o.measure) measured = measureKernels(o, c, g.maxContext, position, prefill, measuredRun);

  // The report.
  explain::Report report;
  report.model = o.input;
  report.entry = entry;
  report.tokens = T;
  report.position = position;
  report.fusion = o.fusion.level;
  for (const auto &p : fusionPasses) report.fusionPasses.push_back(p);
  if (auto t = (*snap->strategy)->getAttrOfType<q3::TargetAttr>(q3::kTargetAttrName)) report.target = printedAttr(t);
  report.asmInstructions = listing.instructions;
  report.asmAttributed = listing.attributed;
  report.measuredRun = measuredRun;

  auto graphFns = [&](ModuleOp m) {
    std::vector<func::FuncOp> fns;
    for (const std::string &f : snap->functions)
      if (auto fn = m.lookupSymbol<func::FuncOp>(f)) fns.push_back(fn);
    return fns;
  };
  auto opsOf = [&](ModuleOp m, const BuildingBlock &b) {
    std::vector<std::string> lines;
    for (func::FuncOp fn : graphFns(m)) {
      AsmState state(fn);
      fn.walk([&](Operation *op) {
        if (!q3::isKernelOp(op)) return;
        if (computesAny(b, q3::blockNames(op->getLoc()))) lines.push_back("@" + fn.getSymName().str() + ": " + printed(op, state));
      });
    }
    return lines;
  };
  auto entryOf = [&](ModuleOp m) { return m.lookupSymbol<func::FuncOp>(entry); };
  func::FuncOp strategyFn = entryOf(*snap->strategy), loweredFn = entryOf(*snap->lowered);
  if (!strategyFn || !loweredFn) fail("internal error: no @", entry, " after lowering");
  AsmState loweredState(loweredFn);

  for (const BuildingBlock *b : chosen) {
    explain::BlockReport br;
    br.block = b;
    for (const std::string &key : b->configKeys)
      br.config.push_back({key, config.contains(key) ? config[key].dump() : std::string("(absent)")});
    br.graphOps = opsOf(*graph, *b);
    br.fusedOps = opsOf(*snap->afterFusion, *b);
    for (const auto &e : snap->events)
      if (computesAny(*b, e.names)) br.fusions.push_back(e);
    strategyFn.walk([&](Operation *op) {
      if (!q3::isKernelOp(op)) return;
      std::vector<std::string> names = q3::blockNames(op->getLoc());
      if (!computesAny(*b, names)) return;
      explain::KernelReport k;
      k.number = q3::kernelNumber(op->getLoc());
      k.op = op->getName().getStringRef().str();
      k.names = names;
      for (const BuildingBlock &other : all)
        if (&other != b && computesAny(other, names)) k.alsoComputes.push_back(other.title);
      k.perLayer = op->getParentOfType<scf::ForOp>() != nullptr;
      for (NamedAttribute a : op->getAttrs()) k.attributes.push_back({a.getName().str(), printedAttr(a.getValue())});
      for (Value operand : op->getOperands())
        if (Operation *w = operand.getDefiningOp(); w && isa<q3::WeightOp, q3::ConcatOp>(w)) {
          std::string what = isa<q3::ConcatOp>(w) ? "stacked " : "";
          for (const std::string &n : q3::blockNames(w->getLoc())) what += n + " ";
          auto layout = w->getAttr("q3.layout");
          what += "layout " + (layout ? printedAttr(layout) : std::string("rows (as stored)"));
          k.weights.push_back(what);
        }
      q3::Cost cost = q3::costOf(op, position);
      k.cost = cost.scaled(1.0 / double(T));
      k.loopNest = explain::loopNestExcerpt(loweredFn, loweredState, k.number, o.lines);
      auto it = listing.kernels.find(k.number);
      if (it != listing.kernels.end()) {
        k.asmCounts = it->second.counts;
        k.asmLoops = int64_t(it->second.loops.size());
        k.loops = it->second.loops;
        if (const explain::AsmLoop *hot = it->second.hottest()) {
          k.hotLoop = *hot;
          k.hasHotLoop = true;
        }
      }
      // The profiled run's calls of the same blocks in this entry (a prompt
      // runs @prefill's twins: _nologits for all chunks but the last, _last).
      const std::string blocks = llvm::join(names, ",");
      for (const auto &[key, m] : measured) {
        llvm::StringRef function = llvm::StringRef(key).split('\t').first;
        if (key.substr(function.size() + 1) != blocks) continue;
        if (function == entry || (prefill && function.starts_with("prefill_"))) {
          k.measuredCalls += m.calls;
          k.measuredSeconds += m.seconds;
        }
      }
      br.kernels.push_back(std::move(k));
    });
    report.blocks.push_back(std::move(br));
  }
  std::string text = explain::renderText(report, o.lines);
  std::cout << text;
  if (!o.html.empty()) {
    for (const char *kind : {"_dense_layer", "_moe_layer"}) {
      auto none = graph->lookupSymbol<func::FuncOp>(entry + kind);
      auto fused = snap->afterFusion->lookupSymbol<func::FuncOp>(entry + kind);
      if (!none || !fused || !report.graphNone.empty()) continue;
      report.graphNone = layerPicture(none, entry + kind + ", fusion none");
      report.graphFused = layerPicture(fused, entry + kind + ", fusion " + o.fusion.level);
    }
    writeFileAtomically(o.html, explain::renderHtml(report, o.lines));
  }
}

} // namespace

void addExplainCommand(CLI::App &app) {
  auto o = std::make_shared<ExplainOptions>();
  auto *cmd = app.add_subcommand(
      "explain", "follow each building block of Qwen3 from its formula to the q3 ops, fused kernels, strategy, "
                 "loop nest and machine instructions the compiler makes of it");
  cmd->add_option("model", o->input, "checkpoint folder (its config.json; weights not needed), config.json or GGUF file")
      ->required();
  cmd->add_option("--block", o->block,
                  "one block (embedding, rms-norm, qkv, qk-norm, rope, kv-write, attention, o-proj, residual, "
                  "swiglu, moe-router, moe-experts, lm-head) or all")
      ->capture_default_str();
  cmd->add_flag("--decode", o->decode, "the one-token step @decode (the default)");
  cmd->add_flag("--prefill", o->prefill, "the prompt step @prefill at --chunk tokens");
  cmd->add_option("--chunk", o->chunk, "tokens of the explained @prefill")->capture_default_str();
  cmd->add_option("--max-context", o->context, "KV-cache capacity (default min(4096, max_position_embeddings))");
  cmd->add_option("--position", o->position, "KV position attention's cost is taken at")->capture_default_str();
  cmd->add_option("--fusion", o->fusion.level, "none, basic or all, as qwen3c build")->capture_default_str();
  cmd->add_option("--enable-pass", o->fusion.enable, "also run this fusion pass")->delimiter(',');
  cmd->add_option("--disable-pass", o->fusion.disable, "skip this fusion pass")->delimiter(',');
  cmd->add_option("--target-cpu", o->cpu, "LLVM CPU name, or host")->capture_default_str();
  cmd->add_option("--target-features", o->features, "extra LLVM target features");
  cmd->add_option("--prefill-dot", o->dot, "as qwen3c build")->capture_default_str();
  cmd->add_option("--int8-dot", o->int8Dot, "as qwen3c build")->capture_default_str();
  cmd->add_option("--decode-dot", o->decodeDot, "as qwen3c build")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "weight type: bf16 or f32")->capture_default_str();
  cmd->add_option("--weights-dtype", o->weightsDtype, "the layers' weights: bf16, int8 or int4")->capture_default_str();
  cmd->add_option("--lm-head-dtype", o->lmHeadDtype, "with int8 / int4 weights: the LM head's")->capture_default_str();
  cmd->add_option("--kv-dtype", o->kvDtype, "KV-cache element type: bf16, f32 or int8")->capture_default_str();
  cmd->add_option("--lines", o->lines, "lines of each loop-nest and assembly excerpt")->capture_default_str();
  cmd->add_option("--html", o->html, "also write the report as one self-contained HTML page here");
  cmd->add_flag("--measure", o->measure,
                "also build the model with kernel timers (MODEL: a checkpoint with weights) and run it to the "
                "explained position: each kernel's measured time per call");
  cmd->add_option("--threads", o->threads, "with --measure: threads of the run (default: the executable's)");
  cmd->callback([o] { explainModel(*o); });
}

} // namespace q3c
