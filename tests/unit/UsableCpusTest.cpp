//===- UsableCpusTest.cpp - the default thread count's cgroup quota ---------===//
#include "runtime/UsableCpus.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using qwen3c_rt::cgroupCpuQuota;

namespace {

struct FakeCgroups : ::testing::Test {
  fs::path root;
  void SetUp() override {
    root = fs::temp_directory_path() / ("qwen3c-cgroup-test-" + std::to_string(::getpid()));
    fs::remove_all(root);
  }
  void TearDown() override { fs::remove_all(root); }
  void write(const std::string &rel, const std::string &text) {
    fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

TEST_F(FakeCgroups, V2WithoutAQuotaIsNone) {
  write("user.slice/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroupCpuQuota("0::/user.slice\n", root.string()), 0);
}

TEST_F(FakeCgroups, V2QuotaRoundsUp) {
  write("docker/abc/cpu.max", "150000 100000\n");
  EXPECT_EQ(cgroupCpuQuota("0::/docker/abc\n", root.string()), 2);
}

TEST_F(FakeCgroups, V2AncestorQuotaApplies) {
  write("a/cpu.max", "100000 100000\n");
  write("a/b/c/cpu.max", "max 100000\n");
  EXPECT_EQ(cgroupCpuQuota("0::/a/b/c\n", root.string()), 1);
}

TEST_F(FakeCgroups, V2TightestOfSeveralLevels) {
  write("a/cpu.max", "300000 100000\n");
  write("a/b/cpu.max", "50000 100000\n"); // half a CPU still gets one thread
  EXPECT_EQ(cgroupCpuQuota("0::/a/b\n", root.string()), 1);
}

TEST_F(FakeCgroups, V1CpuController) {
  write("cpu,cpuacct/job/cpu.cfs_quota_us", "400000\n");
  write("cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroupCpuQuota("4:memory:/job\n3:cpu,cpuacct:/job\n", root.string()), 4);
}

TEST_F(FakeCgroups, V1UnlimitedIsNone) {
  write("cpu,cpuacct/job/cpu.cfs_quota_us", "-1\n");
  write("cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroupCpuQuota("3:cpu,cpuacct:/job\n", root.string()), 0);
}

TEST_F(FakeCgroups, GarbageIsNone) {
  write("x/cpu.max", "lots 0\n");
  EXPECT_EQ(cgroupCpuQuota("0::/x\nnonsense\n", root.string()), 0);
  EXPECT_EQ(cgroupCpuQuota("", root.string()), 0);
}

TEST(UsableCpus, AtLeastOneAndAtMostTheAffinityMask) {
  EXPECT_GE(qwen3c_rt::usableCpus(), 1);
  EXPECT_LE(qwen3c_rt::usableCpus(), qwen3c_rt::affinityCpus());
}

} // namespace
