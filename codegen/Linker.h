//===- Linker.h - the final link step ---------------------------*- C++ -*-===//
#ifndef QWEN3C_CODEGEN_LINKER_H
#define QWEN3C_CODEGEN_LINKER_H

#include <string>
#include <vector>

namespace q3c {

// A file the linker embeds as raw bytes (ld's binary input format), defining
// `symbol` at its first byte and `symbol`_end after its last.
struct EmbeddedBlob {
  std::string path;   // all blobs must sit in one folder
  std::string symbol;
};

// Links objects, blobs and the runtime archive into `output` with the system
// compiler driver (clang++-22 by default, QWEN3C_LINKER overrides). Writes a
// temporary and renames it, so a failed link leaves nothing behind.
void linkExecutable(const std::vector<std::string> &inputs, const std::vector<EmbeddedBlob> &blobs,
                    const std::string &output);

// Where the runtime archive is (QWEN3C_RUNTIME_LIB overrides).
std::string runtimeLibrary();

} // namespace q3c

#endif
