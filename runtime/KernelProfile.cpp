//===- KernelProfile.cpp - time per kernel of a profiled build --------------===//
#include "runtime/KernelProfile.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <vector>

namespace qwen3c_rt {
namespace {

struct Kernel {
  std::string function, blocks;
  int64_t calls = 0, nanos = 0, started = 0;
};

// Indexed by kernel number; empty until enabled. Kernels are called from
// the thread that runs the model (their parallel regions end before the
// call returns), so no locking.
std::vector<Kernel> gKernels;

int64_t nowNanos() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<const Kernel *> byTime() {
  std::vector<const Kernel *> ran;
  for (const Kernel &k : gKernels)
    if (k.calls) ran.push_back(&k);
  std::sort(ran.begin(), ran.end(),
            [](const Kernel *a, const Kernel *b) { return a->nanos != b->nanos ? a->nanos > b->nanos : a < b; });
  return ran;
}

} // namespace

bool profiledBuild() { return qwen3c_kernel_profile_table != nullptr; }

void enableKernelProfile() {
  if (!profiledBuild()) return;
  std::istringstream lines(qwen3c_kernel_profile_table);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t a = line.find('\t'), b = line.find('\t', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const size_t n = std::stoul(line.substr(0, a));
    if (gKernels.size() <= n) gKernels.resize(n + 1);
    gKernels[n].function = line.substr(a + 1, b - a - 1);
    gKernels[n].blocks = line.substr(b + 1);
  }
}

std::string kernelProfileTable() {
  int64_t total = 0;
  for (const Kernel &k : gKernels) total += k.nanos;
  std::ostringstream o;
  char row[160];
  std::snprintf(row, sizeof row, "%6s  %-22s %8s %10s %10s %6s  %s\n", "kernel", "function", "calls", "total ms",
                "us/call", "%", "blocks");
  o << row;
  for (const Kernel *k : byTime()) {
    std::snprintf(row, sizeof row, "%6lld  %-22s %8lld %10.3f %10.2f %5.1f%%  ", (long long)(k - gKernels.data()),
                  k->function.c_str(), (long long)k->calls, double(k->nanos) / 1e6,
                  double(k->nanos) / 1e3 / double(k->calls), total ? 100.0 * double(k->nanos) / double(total) : 0.0);
    o << row << k->blocks << "\n";
  }
  return o.str();
}

std::string kernelProfileJson() {
  std::ostringstream o;
  o << "{\"kernels\":[";
  bool first = true;
  for (const Kernel *k : byTime()) {
    o << (first ? "" : ",") << "{\"kernel\":" << (k - gKernels.data()) << ",\"function\":" << jsonString(k->function)
      << ",\"blocks\":" << jsonString(k->blocks) << ",\"calls\":" << k->calls << ",\"seconds\":" << double(k->nanos) / 1e9
      << "}";
    first = false;
  }
  o << "]}\n";
  return o.str();
}

} // namespace qwen3c_rt

extern "C" void qwen3c_profile_begin(int64_t kernel) {
  using namespace qwen3c_rt;
  if (size_t(kernel) < gKernels.size()) gKernels[size_t(kernel)].started = nowNanos();
}

extern "C" void qwen3c_profile_end(int64_t kernel) {
  using namespace qwen3c_rt;
  if (size_t(kernel) >= gKernels.size()) return;
  Kernel &k = gKernels[size_t(kernel)];
  k.nanos += nowNanos() - k.started;
  ++k.calls;
}
