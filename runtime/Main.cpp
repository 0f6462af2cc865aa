//===- Main.cpp - main() of every compiled model ----------------------------===//
#include "runtime/AtomicOutput.h"
#include "runtime/ChatFormat.h"
#include "runtime/CompiledModel.h"
#include "runtime/CpuFeatures.h"
#include "runtime/KernelProfile.h"
#include "runtime/ThreadPool.h"
#include "runtime/UsableCpus.h"
#include "runtime/Tokenizer.h"
#include "runtime/server/HttpServer.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

int main(int argc, char **argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (std::find(args.begin(), args.end(), "--info") != args.end()) {
      using namespace qwen3c_abi;
      const int64_t *m = qwen3c_model_info;
      std::string chunks;
      for (int64_t i = 0; i < m[kNumPromptChunks]; ++i)
        chunks += (i ? "," : "") + std::to_string(qwen3c_prompt_entries[i].rows);
      std::printf("{\"layers\":%lld,\"kv_heads\":%lld,\"head_dim\":%lld,\"max_context\":%lld,"
                  "\"prefill_chunk\":%lld,\"prompt_chunks\":[%s],\"vocab\":%lld,\"arena_bytes\":%lld,"
                  "\"weight_bytes\":%lld,\"decode_weight_bytes\":%lld,\"tokenizer\":%s,"
                  "\"target_cpu\":\"%s\",\"target_features\":\"%s\",\"device\":\"%s\",\"prefill_arithmetic\":\"%s\","
                  "\"kv_dtype\":\"%s\",\"kv_bytes_per_position\":%lld,\"kv_cache_bytes\":%lld,"
                  "\"decode_batch\":%lld,\"default_threads\":%d}\n",
                  (long long)m[kNumLayers], (long long)m[kKVHeads], (long long)m[kHeadDim],
                  (long long)m[kContext], (long long)m[kPrefillChunk], chunks.c_str(), (long long)m[kVocab],
                  (long long)m[kArenaBytes], (long long)m[kWeightBytes], (long long)m[kDecodeWeightBytes],
                  qwen3c_tokenizer ? "true" : "false", qwen3c_target_cpu, qwen3c_target_features, qwen3c_device,
                  qwen3c_prefill_arithmetic, qwen3c_rt::cacheDTypeName(), (long long)qwen3c_rt::kvBytesPerPosition(),
                  (long long)(qwen3c_rt::kvBytesPerPosition() * m[kContext]), (long long)m[kDecodeBatch],
                  qwen3c_rt::usableCpus());
      return 0;
    }
    // Before any generated code runs: a CPU without the model's features
    // gets one line, not SIGILL.
    qwen3c_rt::requireCpuFeatures(qwen3c_target_features, qwen3c_target_cpu);
    if (std::find(args.begin(), args.end(), "--server") != args.end()) {
      qwen3c_rt::ServerOptions defaults;
      defaults.threads = qwen3c_rt::usableCpus();
      return qwen3c_rt::runServer(qwen3c_rt::parseServerFlags(args, defaults, argv[0]), argv[0]);
    }
    // --profile / --profile-json FILE: the kernel timer of a profiled build.
    bool profile = false;
    std::string profileJson;
    for (size_t i = 0; i < args.size();) {
      if (args[i] == "--profile") {
        profile = true;
        args.erase(args.begin() + long(i));
      } else if (args[i] == "--profile-json") {
        if (i + 1 >= args.size()) throw std::runtime_error("--profile-json: needs a file name");
        profileJson = args[i + 1];
        args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
      } else {
        ++i;
      }
    }
    if ((profile || !profileJson.empty()) && !qwen3c_rt::profiledBuild())
      throw std::runtime_error("--profile: this model was built without kernel timers (rebuild it with "
                               "`qwen3c build ... --profile-kernels`)");
    if (profile || !profileJson.empty()) qwen3c_rt::enableKernelProfile();
    qwen3c_rt::RunOptions defaults;
    defaults.threads = qwen3c_rt::usableCpus();
    qwen3c_rt::RunOptions o = qwen3c_rt::parseRunFlags(args, defaults, argv[0]);
    std::unique_ptr<qwen3c_rt::Tokenizer> tokenizer = qwen3c_rt::embeddedTokenizer();
    qwen3c_rt::setThreads(int(o.threads));
    qwen3c_rt::CompiledModel model(o.weights);
    qwen3c_rt::generate(o, model, tokenizer.get(), qwen3c_rt::ChatFormat::ofCompiledModel());
    if (profile) std::fprintf(stderr, "%s", qwen3c_rt::kernelProfileTable().c_str());
    if (!profileJson.empty()) {
      qwen3c_rt::AtomicOutput json(profileJson);
      json.write(qwen3c_rt::kernelProfileJson());
      json.commit();
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}
