//===- UsableCpus.h - how many CPUs this process may really use ---*- C++ -*-===//
//
// The default thread count: the CPUs in the affinity mask (taskset, a
// container's cpuset), lowered to the cgroup's CPU quota (docker --cpus,
// systemd CPUQuota) rounded up. More threads than that only take turns.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_USABLECPUS_H
#define QWEN3C_RUNTIME_USABLECPUS_H

#include <string>

namespace qwen3c_rt {

// CPUs in this thread's affinity mask (at least 1).
int affinityCpus();

// The CPU quota of the cgroup described by `procSelfCgroup` (the text of
// /proc/self/cgroup) under the cgroup file system at `root`, rounded up; 0
// when there is none. cgroup v2 (cpu.max, every level up to the root) and
// v1 (cpu.cfs_quota_us / cpu.cfs_period_us of the cpu controller).
int cgroupCpuQuota(const std::string &procSelfCgroup, const std::string &root);

// min(affinityCpus(), quota of this process's cgroup when it has one).
int usableCpus();

} // namespace qwen3c_rt

#endif
