//===- CpuFeatures.cpp ------------------------------------------------------===//
#include "runtime/CpuFeatures.h"
#include "runtime/Generate.h"

#include <cpuid.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

namespace qwen3c_rt {
namespace {

enum Reg { EAX, EBX, ECX, EDX };
// Register state the OS must save for a feature's registers (XCR0 bits).
enum State : uint64_t {
  kNone = 0,
  kYmm = 0x6,            // SSE + AVX
  kZmm = 0x6 | 0xe0,     // + opmask, ZMM_Hi256, Hi16_ZMM
  kTile = 0x6 | 0x60000, // + XTILECFG, XTILEDATA
};

struct Feature {
  const char *name;
  uint32_t leaf, subleaf;
  Reg reg;
  int bit;
  uint64_t state;
};

// cpuid bits, from Intel's SDM vol. 2 (CPUID) and AMD's APM vol. 3.
const Feature kFeatures[] = {
    {"sse3", 1, 0, ECX, 0, kNone},          {"pclmul", 1, 0, ECX, 1, kNone},
    {"ssse3", 1, 0, ECX, 9, kNone},         {"fma", 1, 0, ECX, 12, kYmm},
    {"cx16", 1, 0, ECX, 13, kNone},         {"sse4.1", 1, 0, ECX, 19, kNone},
    {"sse4.2", 1, 0, ECX, 20, kNone},       {"movbe", 1, 0, ECX, 22, kNone},
    {"popcnt", 1, 0, ECX, 23, kNone},       {"aes", 1, 0, ECX, 25, kNone},
    {"xsave", 1, 0, ECX, 26, kNone},        {"avx", 1, 0, ECX, 28, kYmm},
    {"f16c", 1, 0, ECX, 29, kYmm},          {"rdrnd", 1, 0, ECX, 30, kNone},
    {"bmi", 7, 0, EBX, 3, kNone},           {"avx2", 7, 0, EBX, 5, kYmm},
    {"bmi2", 7, 0, EBX, 8, kNone},          {"avx512f", 7, 0, EBX, 16, kZmm},
    {"avx512dq", 7, 0, EBX, 17, kZmm},      {"rdseed", 7, 0, EBX, 18, kNone},
    {"adx", 7, 0, EBX, 19, kNone},          {"avx512ifma", 7, 0, EBX, 21, kZmm},
    {"clflushopt", 7, 0, EBX, 23, kNone},   {"clwb", 7, 0, EBX, 24, kNone},
    {"avx512cd", 7, 0, EBX, 28, kZmm},      {"sha", 7, 0, EBX, 29, kNone},
    {"avx512bw", 7, 0, EBX, 30, kZmm},      {"avx512vl", 7, 0, EBX, 31, kZmm},
    {"avx512vbmi", 7, 0, ECX, 1, kZmm},     {"avx512vbmi2", 7, 0, ECX, 6, kZmm},
    {"gfni", 7, 0, ECX, 8, kNone},          {"vaes", 7, 0, ECX, 9, kYmm},
    {"vpclmulqdq", 7, 0, ECX, 10, kYmm},    {"avx512vnni", 7, 0, ECX, 11, kZmm},
    {"avx512bitalg", 7, 0, ECX, 12, kZmm},  {"avx512vpopcntdq", 7, 0, ECX, 14, kZmm},
    {"avx512vp2intersect", 7, 0, EDX, 8, kZmm}, {"amx-bf16", 7, 0, EDX, 22, kTile},
    {"avx512fp16", 7, 0, EDX, 23, kZmm},    {"amx-tile", 7, 0, EDX, 24, kTile},
    {"amx-int8", 7, 0, EDX, 25, kTile},     {"avxvnni", 7, 1, EAX, 4, kYmm},
    {"avx512bf16", 7, 1, EAX, 5, kZmm},     {"lzcnt", 0x80000001, 0, ECX, 5, kNone},
    {"sse4a", 0x80000001, 0, ECX, 6, kNone}, {"prfchw", 0x80000001, 0, ECX, 8, kNone},
};

uint64_t enabledState() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; // no OSXSAVE
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

bool has(const Feature &f) {
  unsigned r[4] = {};
  if (!__get_cpuid_count(f.leaf, f.subleaf, &r[EAX], &r[EBX], &r[ECX], &r[EDX])) return false;
  if (!(r[f.reg] & (1u << f.bit))) return false;
  return (enabledState() & f.state) == f.state;
}

std::vector<std::string> splitCommas(const std::string &s) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= s.size();) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string joinCommas(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Linux's arch_prctl request for a dynamically enabled register state.
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtiledata = 18;

} // namespace

const std::vector<std::string> &checkableCpuFeatures() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto &f : kFeatures) v.push_back(f.name);
    return v;
  }();
  return names;
}

bool cpuSupports(const std::string &feature) {
  for (const auto &f : kFeatures)
    if (feature == f.name) return has(f);
  return false;
}

std::vector<std::string> missingCpuFeatures(const std::string &required, const std::string &pretendMissing) {
  std::vector<std::string> pretend = splitCommas(pretendMissing), missing;
  for (const auto &name : splitCommas(required)) {
    bool pretended = false;
    for (const auto &p : pretend) pretended |= p == name;
    if (pretended || !cpuSupports(name)) missing.push_back(name);
  }
  return missing;
}

void requireCpuFeatures(const std::string &required, const std::string &targetCpu) {
  const char *pretend = std::getenv("QWEN3C_PRETEND_MISSING_FEATURES");
  std::vector<std::string> missing = missingCpuFeatures(required, pretend ? pretend : "");
  if (!missing.empty())
    throw RunError("this CPU lacks " + joinCommas(missing) + ", which this model was compiled for (target cpu " +
                   targetCpu + "); rebuild it with `qwen3c build --target-cpu host` on this machine, or "
                   "`--target-cpu x86-64-v3` for any AVX2 CPU");
  bool amx = false;
  for (const auto &name : splitCommas(required)) amx |= name.rfind("amx-", 0) == 0;
  if (amx && ::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0)
    throw RunError(std::string("the kernel refuses this process the AMX tile state (arch_prctl "
                               "ARCH_REQ_XCOMP_PERM: ") +
                   std::strerror(errno) + "); AMX needs Linux 5.16 or newer; rebuild with --target-features=-amx-tile");
}

} // namespace qwen3c_rt
