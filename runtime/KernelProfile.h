//===- KernelProfile.h - time per kernel of a profiled build ----*- C++ -*-===//
//
// `qwen3c build --profile-kernels` brackets every kernel with
// qwen3c_profile_begin(N) / qwen3c_profile_end(N) (q3-profile-kernels) and
// puts the kernel table in the object: line N is "N<TAB>function<TAB>the
// Hugging Face blocks it computes". The executable's --profile turns the
// timer on; after the run it prints each kernel's calls and time, summed
// over layers, and --profile-json FILE writes the same as JSON.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_KERNELPROFILE_H
#define QWEN3C_RUNTIME_KERNELPROFILE_H

#include <cstdint>
#include <string>

extern "C" {
// Defined in a profiled build's object only.
extern const char qwen3c_kernel_profile_table[] __attribute__((weak));
void qwen3c_profile_begin(int64_t kernel);
void qwen3c_profile_end(int64_t kernel);
}

namespace qwen3c_rt {

// Whether this executable was built with --profile-kernels.
bool profiledBuild();
// Starts timing (a no-op per call until then).
void enableKernelProfile();
// The table, sorted by total time: one line per kernel that ran.
std::string kernelProfileTable();
// {"kernels": [{"kernel", "function", "blocks", "calls", "seconds"}]}
std::string kernelProfileJson();

} // namespace qwen3c_rt

#endif
