//===- Linker.h - the final link step ---------------------------*- C++ -*-===//
#ifndef QWEN3C_CODEGEN_LINKER_H
#define QWEN3C_CODEGEN_LINKER_H

#include <string>
#include <vector>

namespace q3c {

// Links objects and the runtime archive into `output` with the system
// compiler driver (clang++-22 by default, QWEN3C_LINKER overrides). When
// `weightsBlob` is given, the linker embeds the file as raw bytes (ld's
// binary input format) under the symbol `qwen3c_weights`. Writes a temporary
// and renames it, so a failed link leaves nothing behind.
void linkExecutable(const std::vector<std::string> &inputs, const std::string &weightsBlob,
                    const std::string &output);

// Where the runtime archive is (QWEN3C_RUNTIME_LIB overrides).
std::string runtimeLibrary();

} // namespace q3c

#endif
