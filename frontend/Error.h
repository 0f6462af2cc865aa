//===- Error.h - the one error type of qwen3c's non-MLIR code ---*- C++ -*-===//
//
// Bad input (a checkpoint, a config, a flag) becomes a q3c::Error whose
// message names the file and the tensor or key at fault; tools print it on
// one line and exit non-zero.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_FRONTEND_ERROR_H
#define QWEN3C_FRONTEND_ERROR_H

#include <sstream>
#include <stdexcept>
#include <string>

namespace q3c {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// fail("tensor '", name, "' has shape ", s) builds the message in place.
template <typename... Parts> [[noreturn]] void fail(const Parts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

} // namespace q3c

#endif
