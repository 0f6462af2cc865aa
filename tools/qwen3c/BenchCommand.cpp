//===- BenchCommand.cpp - `qwen3c bench`: compiled against eager engines ----===//
//
// llama-bench's tests (pp: prefill of N prompt tokens, tg: decode of N tokens)
// for several engines on one checkpoint, in one run: the compiled executable
// (bf16 and f32 weights, built here or reused), the eager interpreter, PyTorch
// eager (bench/pytorch_bench.py) and llama.cpp's llama-bench when present.
// Engines that run one process per sample alternate within each repetition,
// so drift on a noisy machine spreads over all of them. Beside every row: the
// machine's limit, measured in the same run (bandwidth for decode, peak
// arithmetic for prefill).
//
//===----------------------------------------------------------------------===//
#include "bench/BenchReport.h"
#include "bench/MachineLimits.h"
#include "codegen/CpuPipeline.h"
#include "frontend/AtomicFile.h"
#include "frontend/Error.h"
#include "frontend/GraphBuilder.h"
#include "frontend/ModelConfig.h"
#include "frontend/GgufFile.h"
#include "frontend/TensorInventory.h"
#include "passes/CostModel.h"
#include "passes/FusionPipeline.h"
#include "runtime/CpuFeatures.h"
#include "tools/qwen3c/Commands.h"
#include "tools/qwen3c/GgufWriter.h"
#include "tools/qwen3c/Subprocess.h"

#include <nlohmann/json.hpp>
#include "mlir/IR/MLIRContext.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using qwen3c_bench::Measurement;

namespace q3c {
namespace {

struct BenchOptions {
  std::string checkpoint, workDir, out = "qwen3c-bench", llamaBench, python = "/usr/bin/python3";
  std::string pytorchScript = QWEN3C_PYTORCH_BENCH;
  std::string engines = "qwen3c-bf16,qwen3c-f32,eager,pytorch,llama.cpp";
  std::string threads = "1,all", pp = "64,512", tg = "128";
  int reps = 3;
  double maxSeconds = 30;
  bool rebuild = false;
};

const auto gStart = std::chrono::steady_clock::now();

double elapsed() { return std::chrono::duration<double>(std::chrono::steady_clock::now() - gStart).count(); }

// Progress on stderr, with seconds since the bench started.
template <typename... Args> void progress(const char *format, Args... args) {
  std::fprintf(stderr, "bench [%5.0fs]: ", elapsed());
  std::fprintf(stderr, format, args...);
}

// Wall time spent on each engine (builds, start-up, warm-up included).
std::map<std::string, double> gEngineSeconds;
struct EngineTimer {
  std::string engine;
  double start = elapsed();
  ~EngineTimer() { gEngineSeconds[engine] += elapsed() - start; }
};

std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int> parseCounts(const std::string &flag, const std::string &s, bool allowAll) {
  std::vector<int> out;
  for (const auto &item : splitList(s)) {
    int v = 0;
    if (allowAll && item == "all") v = int(std::max(1u, std::thread::hardware_concurrency()));
    else {
      try {
        size_t used = 0;
        v = std::stoi(item, &used);
        if (used != item.size()) v = 0;
      } catch (const std::exception &) {
        v = 0;
      }
    }
    if (v < 1) fail(flag, ": '", item, "' is not a positive count");
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  if (out.empty()) fail(flag, ": empty list");
  return out;
}

// "1,2,3": token ids for --tokens, sizes for the PyTorch and llama.cpp flags.
template <typename Ints> std::string joinComma(const Ints &values) {
  std::string s;
  for (auto v : values) s += (s.empty() ? "" : ",") + std::to_string(v);
  return s;
}

using qwen3c_bench::formatNumber;

// Weight elements streamed per decoded token, and linear FLOPs per token:
// 2 per matrix element read (the norms' vectors are the only 1-D weights).
struct ModelCost {
  double decodeElements = 0, linearFlops = 0, attentionFlopsPerPosition = 0;
  double headFlops = 0; // the LM head's share of linearFlops: a prompt needs it for its last row only
};

ModelCost modelCost(const ModelConfig &c) {
  ModelCost m;
  m.decodeElements = decodeWeightElements(c);
  double vectors = 0;
  for (const auto &t : expectedTensors(c))
    if (t.shape.size() == 1) vectors += double(t.numel());
  m.linearFlops = 2 * (m.decodeElements - vectors);
  m.headFlops = 2.0 * double(c.vocabSize) * double(c.hiddenSize);
  // QK^T and PV: 2 x 2 x heads x head_dim per layer per earlier position.
  m.attentionFlopsPerPosition = 4.0 * double(c.numLayers * c.numHeads * c.headDim);
  return m;
}

// What each engine is and how its samples are taken.
struct Engine {
  std::string id, label;
  int bytesPerWeight = 2;       // in memory while running: the roofline's numerator
  double decodeBytes = 0;       // bytes one decode step reads, where the engine says (else from bytesPerWeight)
  // The instructions its prefill runs, whose peak is its limit.
  qwen3c_bench::Arith arithmetic = qwen3c_bench::Arith::Bf16Dot;
  std::string dtype = "bf16";   // the PyTorch engine's weights
  bool multiThreaded = true;
  bool processPerSample = false;    // one run of `command` per sample (qwen3c and eager)
  std::vector<std::string> command; // prefix; --tokens ... appended (process engines)
  std::string absent;               // why it cannot run here
  std::string ggufType;             // llama.cpp engines: BF16, or what llama-quantize makes (Q8_0)
  std::string llamaQuantize;        // the quantised llama.cpp engines: the llama-quantize beside llama-bench
};

double jsonRate(const ProcessResult &r, const char *key) {
  size_t start = r.out.rfind("{\"engine\"");
  if (start == std::string::npos) return -1;
  try {
    auto j = nlohmann::json::parse(r.out.substr(start));
    return j.at("timings").at(key).get<double>();
  } catch (const nlohmann::json::exception &) {
    return -1;
  }
}

std::string fileStamp(const std::string &dir) {
  std::ostringstream s;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto &f : files)
    s << f.filename().string() << " " << fs::file_size(f, ec) << " "
      << fs::last_write_time(f, ec).time_since_epoch().count() << "\n";
  return s.str();
}

// Builds (or reuses) the compiled model for one weight dtype.
std::string compiledModel(const BenchOptions &o, const std::string &dtype, const std::string &fusion, int64_t context) {
  std::string exe = (fs::path(o.workDir) / ("qwen3c-" + dtype + (fusion.empty() ? "" : "-" + fusion))).string();
  std::string self = selfExecutable();
  std::error_code ec;
  std::string stamp = "qwen3c " + std::to_string(fs::file_size(self, ec)) + " " +
                      std::to_string(fs::last_write_time(self, ec).time_since_epoch().count()) + "\n" +
                      fs::absolute(o.checkpoint).string() + "\n" + fileStamp(o.checkpoint) + dtype + " " +
                      std::to_string(context) + " " + fusion + "\n";
  std::string stampPath = exe + ".stamp";
  std::ifstream in(stampPath);
  std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!o.rebuild && old == stamp && fs::exists(exe)) {
    progress("reusing %s\n", exe.c_str());
    return exe;
  }
  progress("building %s\n", exe.c_str());
  // int8 / int4: the layers' projections as Q8_0 / Q4_0 (--weights-dtype)
  // and the LM head (the tied embedding) in int8, as llama-quantize makes
  // a Q8_0 file (its head Q8_0: the same bytes per token as the Q8_0 row;
  // Q4_0's head is Q6_K, between our int4 and int8).
  const bool quantised = dtype == "int8" || dtype == "int4";
  std::vector<std::string> argv = {self, "build", o.checkpoint, "-o", exe, "--dtype", quantised ? "bf16" : dtype,
                                   "--max-context", std::to_string(context)};
  if (quantised) argv.insert(argv.end(), {"--weights-dtype", dtype, "--lm-head-dtype", "int8"});
  if (!fusion.empty()) argv.insert(argv.end(), {"--fusion", fusion});
  auto r = runProcess(argv);
  if (r.status != 0) fail("bench: building the ", dtype, " model failed: ", r.lastErrorLine());
  writeFileAtomically(stampPath, stamp);
  return exe;
}

// What a compiled model's --info says the bench needs: the instructions its
// prefill products compute with (prefill_arithmetic: amx, i8, bf16 or fma) and
// the weight bytes one decode step reads (int8 layers, bf16 LM head, ...).
struct CompiledFacts {
  qwen3c_bench::Arith arithmetic = qwen3c_bench::Arith::F32Fma;
  double decodeBytes = 0;
};

CompiledFacts compiledFacts(const std::string &exe) {
  auto r = runProcess({exe, "--info"});
  if (r.status != 0) fail("bench: ", exe, " --info failed: ", r.lastErrorLine());
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception &e) {
    fail("bench: ", exe, " --info is not JSON: ", e.what());
  }
  CompiledFacts facts;
  std::string kind = info.value("prefill_arithmetic", "");
  if (kind == "amx") facts.arithmetic = qwen3c_bench::Arith::AmxBf16;
  else if (kind == "bf16") facts.arithmetic = qwen3c_bench::Arith::Bf16Dot;
  else if (kind == "i8") facts.arithmetic = qwen3c_bench::Arith::Int8Dot;
  else if (kind != "fma") fail("bench: ", exe, " --info names no prefill_arithmetic (amx, i8, bf16 or fma)");
  facts.decodeBytes = info.value("decode_weight_bytes", 0.0);
  return facts;
}

// The IR's counts for one fusion level: the graph `qwen3c build` compiles
// (its default chunk), the level's fusion passes, passes/CostModel.
qwen3c_bench::FusionLevel fusionCosts(const ModelConfig &c, const std::string &level, int64_t context,
                                      int64_t decodePosition) {
  GraphOptions g;
  g.maxContext = context;
  g.prefillChunk = std::min<int64_t>(16, context);
  g.cacheDType = CacheDType::F32;
  mlir::MLIRContext ctx;
  auto module = buildModel(ctx, c, g);
  q3::FusionOptions options;
  options.level = level;
  std::string error;
  auto passes = q3::selectFusionPasses(options, error);
  if (!error.empty()) fail("--engines: ", error);
  if (mlir::failed(runFusion(*module, passes))) fail("bench: the fusion passes failed on ", level);
  qwen3c_bench::FusionLevel f;
  f.level = level;
  f.decodePosition = decodePosition;
  q3::Cost d = q3::costPerEntry(q3::costReport(*module, decodePosition))["decode"];
  q3::Cost p = q3::costPerEntry(q3::costReport(*module, 0))["prefill"];
  f.decodeKernels = d.kernels, f.decodeActivationRead = d.activationRead, f.decodeActivationWritten = d.activationWritten;
  f.prefillKernels = p.kernels, f.prefillActivationRead = p.activationRead,
  f.prefillActivationWritten = p.activationWritten;
  return f;
}

struct Cell {
  Measurement m;
  const Engine *engine = nullptr;
  int tokens = 0; // N of ppN / tgN
  bool prefill = true;
  double spent = 0; // seconds of samples so far
  bool done = false;
};

// One sample of a process engine; returns tokens/s or sets the cell's note.
void sampleOnce(Cell &cell, const std::vector<int32_t> &prompt) {
  std::vector<std::string> argv = cell.engine->command;
  std::vector<int32_t> ids(prompt.begin(), prompt.begin() + (cell.prefill ? cell.tokens : 1));
  argv.insert(argv.end(), {"--tokens", joinComma(ids), "-n", std::to_string(cell.prefill ? 0 : cell.tokens),
                           "--temp", "0", "--ignore-eos", "--json", "-t", std::to_string(cell.m.threads)});
  auto t0 = std::chrono::steady_clock::now();
  ProcessResult r = runProcess(argv);
  cell.spent += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double rate = r.status == 0 ? jsonRate(r, cell.prefill ? "prompt_tokens_per_s" : "generation_tokens_per_s") : -1;
  if (rate <= 0) {
    cell.m.note = "failed: " + r.lastErrorLine();
    cell.done = true;
    return;
  }
  cell.m.samples.push_back(rate);
}

void runPytorch(const BenchOptions &o, const Engine &e, std::vector<Cell *> cells, int threads) {
  if (cells.empty()) return;
  std::vector<int> pps, tgs;
  for (Cell *c : cells) (c->prefill ? pps : tgs).push_back(c->tokens);
  progress("%s, %d thread(s)\n", e.label.c_str(), threads);
  ProcessResult r = runProcess({o.python, o.pytorchScript, o.checkpoint, "--dtype", e.dtype, "--threads",
                                std::to_string(threads), "--pp", joinComma(pps), "--tg", joinComma(tgs), "--reps", std::to_string(o.reps),
                                "--max-seconds", formatNumber("%g", o.maxSeconds)});
  nlohmann::json j;
  try {
    if (r.status == 0) j = nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception &) {
  }
  for (Cell *c : cells) {
    if (j.contains("samples") && j["samples"].contains(c->m.test))
      c->m.samples = j["samples"][c->m.test].get<std::vector<double>>();
    else
      c->m.note = "failed: " + r.lastErrorLine();
  }
}

void runLlamaBench(const BenchOptions &o, const Engine &e, std::vector<Cell *> cells, const std::string &gguf) {
  std::set<int> pps, tgs, threads;
  for (Cell *c : cells) {
    (c->prefill ? pps : tgs).insert(c->tokens);
    threads.insert(c->m.threads);
  }
  auto joined = [](const std::set<int> &s) { return s.empty() ? std::string("0") : joinComma(s); };
  progress("%s\n", e.label.c_str());
  ProcessResult r = runProcess({e.command.front(), "-m", gguf, "-p", joined(pps), "-n", joined(tgs), "-t", joined(threads),
                                "-r", std::to_string(o.reps), "-o", "json"});
  nlohmann::json j;
  try {
    if (r.status == 0) j = nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception &) {
  }
  for (Cell *c : cells) {
    for (const auto &row : j)
      if (row.value("n_threads", 0) == c->m.threads && row.value("n_prompt", 0) == (c->prefill ? c->tokens : 0) &&
          row.value("n_gen", 0) == (c->prefill ? 0 : c->tokens) && row.contains("samples_ts"))
        c->m.samples = row["samples_ts"].get<std::vector<double>>();
    if (c->m.samples.empty()) c->m.note = "failed: " + r.lastErrorLine();
  }
}

// The bytes one decode step of llama.cpp reads from a GGUF: every tensor,
// except that an untied embedding gives one row, and stacked experts
// (*_exps) k of their E.
double ggufDecodeBytes(const GgufFile &f) {
  std::string arch = f.string("general.architecture").value_or("");
  auto integer = [&](const std::string &key) {
    auto it = f.integers.find(arch + "." + key);
    return it == f.integers.end() ? int64_t(0) : it->second;
  };
  const int64_t experts = integer("expert_count"), used = integer("expert_used_count");
  const bool untied = f.tensor("output.weight") != nullptr;
  double bytes = 0;
  for (const auto &t : f.tensors) {
    double b = double(t.bytes);
    if (untied && t.name == "token_embd.weight" && t.dims.size() == 2) b /= double(t.dims[1]);
    if (experts > 0 && used > 0 && t.name.find("_exps.") != std::string::npos) b *= double(used) / double(experts);
    bytes += b;
  }
  return bytes;
}

std::string cpuName() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string findOnPath(const std::string &name) {
  const char *path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  for (std::string dir; std::getline(ss, dir, ':');) {
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

void bench(const BenchOptions &o, const std::string &commandLine) {
  ModelConfig config = ModelConfig::load((fs::path(o.checkpoint) / "config.json").string());
  std::vector<int> threads = parseCounts("--threads", o.threads, true);
  std::vector<int> pps = o.pp.empty() ? std::vector<int>{} : parseCounts("--pp", o.pp, false);
  std::vector<int> tgs = o.tg.empty() ? std::vector<int>{} : parseCounts("--tg", o.tg, false);
  if (o.reps < 1) fail("--reps: must be at least 1");
  int64_t context = 16;
  for (int n : pps) context = std::max<int64_t>(context, n);
  for (int n : tgs) context = std::max<int64_t>(context, n + 1);
  if (context > config.positionLimit()) fail("bench: ", context, " positions exceed max_position_embeddings");
  fs::create_directories(o.workDir);

  qwen3c_bench::Report report;
  const ModelCost cost = modelCost(config);
  std::string pytorchNote;
  // Engines, in the order of the table.
  std::vector<Engine> engines;
  for (const auto &id : splitList(o.engines)) {
    Engine e;
    e.id = id;
    // qwen3c-DTYPE, or qwen3c-DTYPE@LEVEL for one fusion level.
    std::string base = id.substr(0, id.find('@')), fusion = id.find('@') == std::string::npos ? "" : id.substr(id.find('@') + 1);
    if (base == "qwen3c-bf16" || base == "qwen3c-f32" || base == "qwen3c-int8" || base == "qwen3c-int4") {
      std::string dtype = base.substr(7);
      e.label = "qwen3c " + dtype + (fusion.empty() ? "" : " fusion " + fusion);
      if (!fusion.empty()) {
        report.fusion.push_back(fusionCosts(config, fusion, context, tgs.front() / 2));
        report.fusion.back().engine = e.label;
      }
      e.bytesPerWeight = dtype == "f32" ? 4 : 2;
      e.processPerSample = true;
      EngineTimer timer{e.label};
      e.command = {compiledModel(o, dtype, fusion, context)};
      const CompiledFacts facts = compiledFacts(e.command.front());
      e.arithmetic = facts.arithmetic;
      e.decodeBytes = facts.decodeBytes;
    } else if (id == "eager") {
      e.label = "qwen3c eager interpreter";
      e.bytesPerWeight = 4;
      e.arithmetic = qwen3c_bench::Arith::F32Fma;
      e.multiThreaded = false;
      e.processPerSample = true;
      e.command = {selfExecutable(), "run-eager", o.checkpoint, "--max-context", std::to_string(context)};
    } else if (id == "pytorch") {
      e.label = "pytorch bf16";
      // oneDNN runs bf16 matrix products on AMX tiles where the CPU has them.
      if (qwen3c_rt::cpuSupports("amx-bf16")) e.arithmetic = qwen3c_bench::Arith::AmxBf16;
      // Without AVX512-BF16, PyTorch's bf16 matrix products have no fast
      // path (measured on an AVX2 Zen 3: minutes for what f32 does in
      // seconds), so a PyTorch user there runs f32: the faster formulation
      // is the honest baseline.
      if (!qwen3c_rt::cpuSupports("avx512bf16")) {
        e.dtype = "f32";
        e.label = "pytorch f32";
        e.bytesPerWeight = 4;
        e.arithmetic = qwen3c_bench::Arith::F32Fma;
        pytorchNote = "pytorch runs f32 weights: this CPU has no AVX512-BF16, where PyTorch's bf16 matrix products "
                      "are two orders of magnitude slower than its f32 ones.";
      }
      if (runProcess({o.python, "-c", "import torch"}).status != 0)
        e.absent = "absent: " + o.python + " cannot import torch (apt install python3-torch)";
      else if (!fs::exists(o.pytorchScript))
        e.absent = "absent: " + o.pytorchScript + " not found (--pytorch-script)";
    } else if (id == "llama.cpp" || id.rfind("llama.cpp-", 0) == 0) {
      std::string found = o.llamaBench.empty() ? findOnPath("llama-bench") : o.llamaBench;
      if (found.empty()) e.absent = "absent: llama-bench not on PATH (--llama-bench FILE; bench/build-llama-bench.sh)";
      else if (::access(found.c_str(), X_OK) != 0) e.absent = "absent: " + found + " is not an executable";
      e.command = {found};
      // The quantised files: what llama-quantize makes of the bf16 GGUF.
      static const std::map<std::string, std::string> kQuantised = {
          {"llama.cpp-q8_0", "Q8_0"}, {"llama.cpp-q4_0", "Q4_0"}, {"llama.cpp-q4_k_m", "Q4_K_M"}};
      if (id == "llama.cpp") {
        e.label = "llama.cpp bf16";
        e.ggufType = "BF16";
      } else {
        if (!kQuantised.count(id))
          fail("--engines: unknown engine '", id, "' (llama.cpp, llama.cpp-q8_0, llama.cpp-q4_0, llama.cpp-q4_k_m)");
        // Made from the bf16 GGUF by the llama-quantize beside llama-bench;
        // its products quantise the activations to int8 and run on int8 dot
        // products: vpdpbusd where the CPU has AVX512-VNNI, else AVX2's
        // vpmaddubsw + vpmaddwd (the peak measures either). Its decode bytes
        // come from the file itself (every tensor's type and size).
        e.ggufType = kQuantised.at(id);
        e.label = "llama.cpp " + e.ggufType;
        e.arithmetic = qwen3c_bench::Arith::Int8Dot;
        fs::path quantize = fs::path(found).parent_path() / "llama-quantize";
        if (e.absent.empty() && ::access(quantize.c_str(), X_OK) != 0)
          e.absent = "absent: no llama-quantize beside " + found + " (bench/build-llama-bench.sh builds both)";
        e.llamaQuantize = quantize.string();
      }
    } else {
      fail("--engines: unknown engine '", id,
           "' (qwen3c-bf16, qwen3c-f32, qwen3c-int8, qwen3c-int4, each with @none, @basic or @all for one fusion level, eager, pytorch, "
           "llama.cpp, llama.cpp-q8_0, llama.cpp-q4_0, llama.cpp-q4_k_m)");
    }
    engines.push_back(e);
  }

  // The machine's limits, measured now.
  report.model = o.checkpoint;
  report.command = commandLine;
  std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  report.date = date;
  report.machine.cpu = cpuName();
  report.machine.cores = int(std::thread::hardware_concurrency());
  // Measured before the engines and again after them; the higher value
  // counts (placement of threads on these VMs changes within minutes).
  std::map<int, size_t> limitIndex;
  auto measureLimits = [&](const char *when) {
    for (int t : threads) {
      progress("measuring bandwidth and peak arithmetic %s, %d thread(s)\n", when, t);
      if (!limitIndex.count(t)) {
        limitIndex[t] = report.machine.threads.size();
        report.machine.threads.push_back(t);
        report.machine.bandwidthGBs.push_back(0);
        report.machine.f32Gflops.push_back(0);
        report.machine.bf16Gflops.push_back(0);
        report.machine.amxGflops.push_back(0);
        report.machine.int8Gops.push_back(0);
      }
      size_t i = limitIndex[t];
      auto &mc = report.machine;
      mc.bandwidthGBs[i] = std::max(mc.bandwidthGBs[i], qwen3c_bench::readBandwidthGBs(t));
      mc.f32Gflops[i] = std::max(mc.f32Gflops[i], qwen3c_bench::peakGflops(t, qwen3c_bench::Arith::F32Fma));
      mc.bf16Gflops[i] = std::max(mc.bf16Gflops[i], qwen3c_bench::peakGflops(t, qwen3c_bench::Arith::Bf16Dot));
      mc.amxGflops[i] = std::max(mc.amxGflops[i], qwen3c_bench::peakGflops(t, qwen3c_bench::Arith::AmxBf16));
      mc.int8Gops[i] = std::max(mc.int8Gops[i], qwen3c_bench::peakGflops(t, qwen3c_bench::Arith::Int8Dot));
    }
  };
  measureLimits("first");

  // Cells: test-major so each measurement's engines sit together.
  std::vector<Cell> cells;
  auto addCells = [&](const std::vector<int> &sizes, bool prefill) {
    for (int n : sizes)
      for (int t : threads)
        for (const auto &e : engines) {
          Cell c;
          c.engine = &e;
          c.tokens = n;
          c.prefill = prefill;
          c.m.engine = e.label;
          c.m.test = (prefill ? "pp" : "tg") + std::to_string(n);
          c.m.threads = t;
          if (!e.absent.empty()) {
            c.m.note = e.absent;
            c.done = true;
          } else if (!e.multiThreaded && t != 1) {
            c.m.note = "single-threaded engine";
            c.done = true;
          }
          cells.push_back(c);
        }
  };
  addCells(pps, true);
  addCells(tgs, false);

  // A fixed prompt of ids below the special tokens.
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> pick(0, int32_t(std::min<int64_t>(config.vocabSize, 151643)) - 1);
  std::vector<int32_t> prompt(size_t(std::max<int64_t>(context, 1)));
  for (auto &id : prompt) id = pick(rng);

  // Process engines: warm-up once per (engine, threads), then repetitions
  // alternating over engines.
  for (const auto &e : engines) {
    if (!e.absent.empty() || !e.processPerSample) continue;
    for (int t : threads) {
      if (!e.multiThreaded && t != 1) continue;
      progress("warming up %s, %d thread(s)\n", e.label.c_str(), t);
      Cell warm;
      warm.engine = &e;
      warm.tokens = 8;
      warm.m.threads = t;
      EngineTimer timer{e.label};
      sampleOnce(warm, prompt);
    }
  }
  for (int rep = 0; rep < o.reps; ++rep) {
    for (auto &c : cells) {
      if (c.done || !c.engine->processPerSample) continue;
      // Skip what would take far too long, predicted from the engine's
      // prefill rate at a shorter prompt.
      if (c.m.samples.empty() && c.prefill)
        for (const auto &other : cells)
          if (other.engine == c.engine && other.prefill && other.m.threads == c.m.threads && !other.m.samples.empty() &&
              other.tokens < c.tokens) {
            double predicted = c.tokens / other.m.median();
            if (predicted > 2 * o.maxSeconds) {
              c.m.note = "skipped: about " + formatNumber("%.0f", predicted) + " s per run (--max-seconds " +
                         formatNumber("%g", o.maxSeconds) + ")";
              c.done = true;
            }
          }
      if (c.done) continue;
      progress("%s %s, %d thread(s), run %d\n", c.m.engine.c_str(), c.m.test.c_str(), c.m.threads,
                   rep + 1);
      {
        EngineTimer timer{c.m.engine};
        sampleOnce(c, prompt);
      }
      if (c.spent > o.maxSeconds) c.done = true;
    }
  }
  for (auto &e : engines) {
    if (!e.absent.empty()) continue;
    if (e.id == "pytorch") {
      for (int t : threads) {
        std::vector<Cell *> mine;
        for (auto &c : cells)
          if (c.engine == &e && c.m.threads == t) mine.push_back(&c);
        EngineTimer timer{e.label};
        runPytorch(o, e, mine, t);
      }
    } else if (!e.ggufType.empty()) {
      std::string bf16 = (fs::path(o.workDir) / "model-bf16.gguf").string(), gguf = bf16;
      std::vector<Cell *> mine;
      for (auto &c : cells)
        if (c.engine == &e) mine.push_back(&c);
      try {
        if (!fs::exists(bf16) || o.rebuild) writeGguf(o.checkpoint, bf16, GgufType::BF16);
        if (e.ggufType != "BF16") {
          gguf = (fs::path(o.workDir) / ("model-" + e.ggufType + ".gguf")).string();
          if (!fs::exists(gguf) || o.rebuild) {
            progress("llama-quantize to %s\n", e.ggufType.c_str());
            std::string part = gguf + ".part";
            ProcessResult q = runProcess({e.llamaQuantize, bf16, part, e.ggufType});
            if (q.status != 0) {
              fs::remove(part);
              throw Error("llama-quantize " + e.ggufType + ": " + q.lastErrorLine());
            }
            fs::rename(part, gguf);
          }
        }
        e.decodeBytes = ggufDecodeBytes(readGguf(gguf));
        EngineTimer timer{e.label};
        runLlamaBench(o, e, mine, gguf);
      } catch (const Error &err) {
        for (Cell *c : mine) c->m.note = std::string("failed: ") + err.what();
      }
    }
  }

  measureLimits("again");
  for (auto &c : cells) {
    const auto &mc = report.machine;
    const Engine &e = *c.engine;
    size_t li = limitIndex[c.m.threads];
    if (c.prefill) {
      // Every engine computes a prompt's logits for its last row only.
      double flops = cost.linearFlops - cost.headFlops + cost.headFlops / c.tokens +
                     cost.attentionFlopsPerPosition * c.tokens / 2;
      // The peak of the instructions the engine runs; where the CPU lacks
      // them (bf16 arithmetic on an AVX2 host) the engine falls back to the
      // next kind down, and so does its limit.
      using qwen3c_bench::Arith;
      Arith a = e.arithmetic;
      if (a == Arith::AmxBf16 && mc.amxGflops[li] <= 0) a = Arith::Bf16Dot;
      if (a == Arith::Bf16Dot && mc.bf16Gflops[li] <= 0) a = Arith::F32Fma;
      if (a == Arith::Int8Dot && mc.int8Gops[li] <= 0) a = Arith::F32Fma;
      struct Peak {
        double value;
        const char *unit;
      };
      const Peak p = a == Arith::AmxBf16   ? Peak{mc.amxGflops[li], " GFLOP/s AMX-BF16 / "}
                     : a == Arith::Bf16Dot ? Peak{mc.bf16Gflops[li], " GFLOP/s bf16 / "}
                     : a == Arith::Int8Dot ? Peak{mc.int8Gops[li], " GOP/s int8 dot / "}
                                           : Peak{mc.f32Gflops[li], " GFLOP/s f32 / "};
      const double peak = p.value;
      const char *unit = p.unit;
      c.m.limit = peak * 1e9 / flops;
      c.m.limitBasis = formatNumber("%.0f", peak) + unit + formatNumber("%.3g", flops / 1e9) + " GFLOP";
    } else {
      double bytes = e.decodeBytes > 0 ? e.decodeBytes : cost.decodeElements * e.bytesPerWeight;
      c.m.limit = mc.bandwidthGBs[li] * 1e9 / bytes;
      c.m.limitBasis = formatNumber("%.1f", mc.bandwidthGBs[li]) + " GB/s / " + formatNumber("%.3g", bytes / 1e9) + " GB";
    }
    report.rows.push_back(c.m);
  }
  report.notes.push_back("Prefill limits use the peak of the instructions each engine runs: qwen3c's is what its "
                         "compiled model reports (`--info`: prefill_arithmetic amx, i8, bf16 or fma), PyTorch bf16 uses "
                         "oneDNN's AMX kernels where the CPU has AMX, llama.cpp BF16 vdpbf16ps where the CPU has "
                         "AVX512-BF16, llama.cpp's quantised formats int8 dot products (vpdpbusd where it has AVX512-VNNI, else AVX2's vpmaddubsw + vpmaddwd, 256-bit); an engine whose instructions the CPU lacks runs (and is compared with) the "
                         "next kind down, to f32 FMA.");
  if (!pytorchNote.empty()) report.notes.push_back(pytorchNote);
  report.notes.push_back("Decode limit: read bandwidth / weight bytes per token (k of E experts; an untied "
                         "embedding reads one row). Prefill limit: peak / (2 x active linear weights + attention), the LM head counted once per prompt.");
  std::string times;
  for (const auto &e : engines)
    if (gEngineSeconds.count(e.label))
      times += (times.empty() ? "" : ", ") + e.label + " " + formatNumber("%.0f s", gEngineSeconds[e.label]);
  report.notes.push_back("Wall time per engine (builds, start-up and warm-up included): " + times + "; whole bench " +
                         formatNumber("%.0f s", elapsed()) + ".");
  if (cost.decodeElements * 2 < 64e6)
    report.notes.push_back("The weights (" + formatNumber("%.3g", cost.decodeElements * 2 / 1e6) +
                           " MB in bf16) fit in the CPU caches: decode is not bound by memory bandwidth here, so "
                           "'% of limit' can pass 100%.");
  std::string md = "# qwen3c bench: " + o.checkpoint + " (" + report.date + ")\n\n" +
                   qwen3c_bench::renderMarkdown(report) + "\nCommand: `" + commandLine + "`\n";
  std::fputs(md.c_str(), stdout);
  writeFileAtomically(o.out + ".md", md);
  writeFileAtomically(o.out + ".json", qwen3c_bench::toJson(report).dump(2) + "\n");
  writeFileAtomically(o.out + ".svg", qwen3c_bench::renderSvg(report));
  progress("wrote %s.md, %s.json, %s.svg\n", o.out.c_str(), o.out.c_str(), o.out.c_str());
}

} // namespace

void addBenchCommand(CLI::App &app) {
  auto o = std::make_shared<BenchOptions>();
  auto *cmd = app.add_subcommand("bench", "prefill and decode tokens/s of the compiled model beside eager engines, "
                                          "with the machine's limits");
  cmd->add_option("checkpoint", o->checkpoint, "Hugging Face checkpoint folder")->required();
  cmd->add_option("--engines", o->engines,
                  "comma list: qwen3c-bf16, qwen3c-f32, qwen3c-int8, qwen3c-int4 (add @none, @basic or @all for one fusion level, e.g. "
                  "qwen3c-bf16@none: a fusion-level table is added), eager, pytorch, llama.cpp, llama.cpp-q8_0 / -q4_0 / -q4_k_m (llama-quantize beside llama-bench)")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "comma list of thread counts ('all' = every core)")->capture_default_str();
  cmd->add_option("--pp", o->pp, "prefill tests: prompt lengths")->capture_default_str();
  cmd->add_option("--tg", o->tg, "decode tests: generated tokens")->capture_default_str();
  cmd->add_option("-r,--reps", o->reps, "repetitions per measurement")->capture_default_str();
  cmd->add_option("--max-seconds", o->maxSeconds,
                  "stop repeating a measurement after this long; skip one predicted to take twice as long")
      ->capture_default_str();
  cmd->add_option("--work-dir", o->workDir, "where compiled models and the GGUF file are kept (default: "
                                            "CHECKPOINT.bench)");
  cmd->add_option("-o,--out", o->out, "output prefix: PREFIX.md, PREFIX.json, PREFIX.svg")->capture_default_str();
  cmd->add_option("--llama-bench", o->llamaBench, "llama.cpp's llama-bench (default: from PATH)");
  cmd->add_option("--python", o->python, "python with torch for the PyTorch engine")->capture_default_str();
  cmd->add_option("--pytorch-script", o->pytorchScript, "the PyTorch engine")->capture_default_str();
  cmd->add_flag("--rebuild", o->rebuild, "rebuild compiled models even when up to date");
  cmd->callback([o] {
    BenchOptions opts = *o;
    if (opts.workDir.empty()) opts.workDir = fs::path(opts.checkpoint).lexically_normal().string() + ".bench";
    bench(opts, commandLine());
  });
}

} // namespace q3c
