//===- UsableCpus.cpp -------------------------------------------------------===//
#include "runtime/UsableCpus.h"

#include <algorithm>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <thread>

namespace qwen3c_rt {
namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return in ? s.str() : std::string();
}

int roundUpQuota(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  return int(std::max(1LL, (quota + period - 1) / period));
}

// "max 100000" or "150000 100000"; 0 for none.
int cpuMax(const std::string &text) {
  std::istringstream s(text);
  std::string quota;
  long long period = 0;
  if (!(s >> quota >> period) || quota == "max") return 0;
  try {
    return roundUpQuota(std::stoll(quota), period);
  } catch (...) {
    return 0;
  }
}

int v1Quota(const std::string &dir) {
  std::istringstream q(readFile(dir + "/cpu.cfs_quota_us")), p(readFile(dir + "/cpu.cfs_period_us"));
  long long quota = 0, period = 0;
  if (!(q >> quota) || !(p >> period)) return 0;
  return roundUpQuota(quota, period);
}

} // namespace

int affinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

int cgroupCpuQuota(const std::string &procSelfCgroup, const std::string &root) {
  std::istringstream lines(procSelfCgroup);
  int best = 0;
  auto take = [&](int q) {
    if (q > 0 && (best == 0 || q < best)) best = q;
  };
  for (std::string line; std::getline(lines, line);) {
    // hierarchy-id:controllers:path
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (path.empty() || path[0] != '/') continue;
    if (controllers.empty()) { // v2: the quota of any ancestor applies
      for (std::string p = path;;) {
        take(cpuMax(readFile(root + (p == "/" ? "" : p) + "/cpu.max")));
        if (p == "/") break;
        size_t slash = p.rfind('/');
        p = slash == 0 ? "/" : p.substr(0, slash);
      }
      continue;
    }
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');)
      if (name == "cpu") {
        for (const char *mount : {"/cpu,cpuacct", "/cpu", "/cpuacct,cpu"}) {
          take(v1Quota(root + mount + path));
          take(v1Quota(root + mount)); // inside a container the cgroup is the mount's root
        }
      }
  }
  return best;
}

int usableCpus() {
  int cpus = affinityCpus();
  int quota = cgroupCpuQuota(readFile("/proc/self/cgroup"), "/sys/fs/cgroup");
  return quota > 0 ? std::min(cpus, quota) : cpus;
}

} // namespace qwen3c_rt
