//===- Generate.cpp ---------------------------------------------------------===//
#include "runtime/Generate.h"
#include "runtime/TokenDecoder.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace qwen3c_rt {
namespace {

template <typename... Parts> [[noreturn]] void fail(const Parts &...parts) {
  std::string s;
  ((s += parts), ...);
  throw RunError(s);
}

// Writes to a temporary and renames on success: no half-written dump.
class AtomicOutput {
public:
  explicit AtomicOutput(const std::string &path) : path(path), tmp(path + ".tmp." + std::to_string(getpid())) {
    f = std::fopen(tmp.c_str(), "wb");
    if (!f) fail(path, ": cannot write: ", std::strerror(errno));
  }
  ~AtomicOutput() {
    if (f) {
      std::fclose(f);
      std::remove(tmp.c_str());
    }
  }
  void write(const float *data, size_t n) {
    if (std::fwrite(data, sizeof(float), n, f) != n) fail(path, ": write failed: ", std::strerror(errno));
  }
  void commit() {
    int rc = std::fclose(f);
    f = nullptr;
    if (rc != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      fail(path, ": write failed: ", std::strerror(errno));
    }
  }

private:
  std::string path, tmp;
  FILE *f = nullptr;
};

int32_t argmaxRow(const float *row, int64_t n) { return int32_t(std::max_element(row, row + n) - row); }

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string jsonList(const std::vector<int32_t> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

} // namespace

std::vector<int32_t> parseTokens(const std::string &s, int64_t vocab) {
  std::vector<int32_t> out;
  size_t start = 0;
  if (s.empty()) fail("--tokens: the prompt is empty");
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    char *stop = nullptr;
    errno = 0;
    long long v = item.empty() ? 0 : std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || errno == ERANGE) fail("--tokens: '", item, "' is not a token id");
    if (v < 0 || v >= vocab)
      fail("--tokens: token id ", std::to_string(v), " is out of range (vocabulary of ", std::to_string(vocab), ")");
    out.push_back(int32_t(v));
    start = end + 1;
  }
  return out;
}

void generate(const RunOptions &o, Backend &backend) {
  if (o.n < 0) fail("-n: must be 0 or more, got ", std::to_string(o.n));
  if (o.temp != 0) fail("--temp: only greedy decoding (--temp 0) is implemented so far");
  if (o.threads < 1) fail("-t: must be at least 1");
  int64_t context = o.context ? o.context : backend.maxContext();
  if (context < 1 || context > backend.maxContext())
    fail("-c: ", std::to_string(context), " is outside 1..", std::to_string(backend.maxContext()),
         " (the compiled maximum context)");
  const int64_t V = backend.vocab();
  std::vector<int32_t> prompt = parseTokens(o.tokens, V);
  if (int64_t(prompt.size()) + o.n > context)
    fail("prompt of ", std::to_string(prompt.size()), " tokens plus -n ", std::to_string(o.n),
         " exceeds the context of ", std::to_string(context));

  std::unique_ptr<AtomicOutput> dump;
  if (!o.dumpLogits.empty()) dump = std::make_unique<AtomicOutput>(o.dumpLogits);
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  std::vector<float> logits = backend.forward(prompt, 0);
  auto t1 = clock::now();
  if (dump) dump->write(logits.data(), logits.size());

  // Each generated token is evaluated too, so the dump has one row per
  // position of prompt + generated tokens.
  std::vector<int32_t> generated;
  int32_t next = argmaxRow(logits.data() + (prompt.size() - 1) * size_t(V), V);
  for (int64_t i = 0; i < o.n; ++i) {
    generated.push_back(next);
    if (!o.json) {
      std::printf("%d%s", next, i + 1 < o.n ? "," : "\n");
      std::fflush(stdout);
    }
    std::vector<float> row = backend.forward({next}, int64_t(prompt.size()) + i);
    if (dump) dump->write(row.data(), row.size());
    next = argmaxRow(row.data(), V);
  }
  auto t2 = clock::now();
  if (dump) dump->commit();

  double promptS = std::chrono::duration<double>(t1 - t0).count();
  double genS = std::chrono::duration<double>(t2 - t1).count();
  double promptTps = promptS > 0 ? double(prompt.size()) / promptS : 0;
  double genTps = genS > 0 && o.n > 0 ? double(o.n) / genS : 0;
  if (o.json) {
    std::string text = o.decoder ? ",\"text\":" + jsonString(o.decoder->decode(generated)) : "";
    std::printf("{\"engine\":\"%s\",\"prompt_tokens\":%s,\"generated_tokens\":%s%s,"
                "\"timings\":{\"prompt_tokens_per_s\":%.3f,\"generation_tokens_per_s\":%.3f,"
                "\"prompt_s\":%.6f,\"generation_s\":%.6f}}\n",
                backend.name(), jsonList(prompt).c_str(), jsonList(generated).c_str(), text.c_str(),
                promptTps, genTps, promptS, genS);
  }
  std::fprintf(stderr, "prompt: %zu tokens, %.2f tokens/s; generation: %lld tokens, %.2f tokens/s\n",
               prompt.size(), promptTps, (long long)o.n, genTps);
}

} // namespace qwen3c_rt
