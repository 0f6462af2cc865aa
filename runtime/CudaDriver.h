//===- CudaDriver.h - the CUDA driver API, opened at run time ---*- C++ -*-===//
//
// A CUDA build's executable has no link-time CUDA dependency: libcuda.so.1
// is opened with dlopen when the model starts, and a missing driver or
// device is one error line (RunError). The same file implements the mgpu*
// functions MLIR's gpu-to-llvm lowering calls (module load of the embedded
// PTX, which the driver JIT-compiles, and kernel launches), all on one
// stream: launches queue in order and the runtime synchronises only before
// it reads results back.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_CUDADRIVER_H
#define QWEN3C_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace qwen3c_rt::cuda {

// Opens the driver, device 0 and its primary context; throws RunError
// naming what is missing ("no CUDA driver (libcuda.so.1: ...)", "no CUDA
// device"). `device` is the model's "cuda:sm_NN", for the messages.
void open(const std::string &device);
// The device's name and compute capability ("NVIDIA H200, sm_90").
std::string describe();
// Makes the context current on the calling thread (the server's engine thread).
void bindThread();
void *allocate(size_t bytes); // zeroed device memory
void release(void *p);
void upload(void *device, const void *host, size_t bytes);   // ordered after queued launches
void download(void *host, const void *device, size_t bytes); // waits for them
void synchronize();
// CUDA graphs: the launches between beginCapture and endCapture (one model
// call) recorded instead of run; replay() runs them again, with the same
// arguments (the indices a kernel reads from device memory may change). Null
// from endCapture where the driver lacks graphs.
bool hasGraphs();
void beginCapture();
void *endCapture();
void replay(void *graph);

} // namespace qwen3c_rt::cuda

#endif
