//===- CpuFeatures.h - does this CPU run the code it was compiled for -*- C++ -*-===//
//
// A compiled model records the x86 features its code may use (LLVM's names,
// as `qwen3c build` enabled them for --target-cpu / --target-features). At
// start-up, before any generated code runs, the runtime reads this CPU's
// cpuid and the OS's enabled register state (XCR0), and refuses in one line
// naming what is missing rather than dying of SIGILL. AMX also needs the
// kernel to grant the tile state to the process (arch_prctl), requested here.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_CPUFEATURES_H
#define QWEN3C_RUNTIME_CPUFEATURES_H

#include <string>
#include <vector>

namespace qwen3c_rt {

// Every feature name the runtime can test (LLVM's spelling: "avx2",
// "avx512bf16", "amx-tile", ...). The compiler records only these.
const std::vector<std::string> &checkableCpuFeatures();

// Whether this CPU and OS support `feature` (one of the names above).
bool cpuSupports(const std::string &feature);

// The features of the comma-separated `required` list this CPU lacks;
// `pretendMissing` (comma-separated, a test hook) are counted as missing.
std::vector<std::string> missingCpuFeatures(const std::string &required, const std::string &pretendMissing = "");

// Throws RunError naming the missing features and the target CPU, or when
// AMX is required and the kernel refuses its tile state. Reads the test hook
// QWEN3C_PRETEND_MISSING_FEATURES.
void requireCpuFeatures(const std::string &required, const std::string &targetCpu);

} // namespace qwen3c_rt

#endif
