//===- CudaDriver.cpp - the CUDA driver API, opened at run time ------------===//
#include "runtime/CudaDriver.h"
#include "runtime/Generate.h" // RunError

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <unordered_map>

namespace qwen3c_rt::cuda {
namespace {

// The driver API's types, as cuda.h declares them (no CUDA headers here).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76; // CU_DEVICE_ATTRIBUTE_*
constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferBytes = 6;           // CU_JIT_ERROR_LOG_BUFFER(_SIZE_BYTES)

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void **, void **);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  // Optional (graphs): null where the driver has none.
  CUresult (*cuStreamBeginCapture)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, void **);
  CUresult (*cuGraphInstantiateWithFlags)(void **, void *, unsigned long long);
  CUresult (*cuGraphLaunch)(void *, CUstream);
};
constexpr int kCaptureModeRelaxed = 2; // CU_STREAM_CAPTURE_MODE_RELAXED: other threads' calls are not checked

// Plain data only: the model's module constructor (mgpuModuleLoadJIT) runs
// before this file's dynamic initialisers would.
Driver driver;
bool opened = false;
CUdevice device = 0;
CUcontext context = nullptr;
CUstream stream = nullptr;

std::string errorText(CUresult r) {
  const char *s = nullptr;
  if (driver.cuGetErrorString && driver.cuGetErrorString(r, &s) == 0 && s) return s;
  return "CUDA error " + std::to_string(r);
}

void check(CUresult r, const char *what) {
  if (r != 0) throw RunError(std::string(what) + ": " + errorText(r));
}

// Inside a model call (C frames of generated code): no exception may cross
// them, so a failure there ends the process with its message.
void checkOrExit(CUresult r, const char *what, const char *detail = "") {
  if (r == 0) return;
  std::fprintf(stderr, "error: %s: %s%s\n", what, errorText(r).c_str(), detail);
  std::exit(1);
}

template <typename F> void resolve(void *lib, F &fn, const char *name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) throw RunError(std::string("the CUDA driver has no ") + name + " (a driver older than CUDA 12?)");
}

// A module whose PTX the driver compiles on first use, once the runtime has
// opened the device (the load constructor runs before main).
struct LazyModule {
  const void *ptx;
  CUmodule module;
  // Functions by name (the generated code passes the same constant string
  // at every launch of a kernel): one driver lookup per kernel, not per launch.
  std::unordered_map<const char *, CUfunction> *functions;
};

CUmodule loaded(LazyModule *m) {
  if (m->module) return m->module;
  if (!opened) {
    std::fprintf(stderr, "error: internal error: a CUDA kernel was needed before the device was opened\n");
    std::exit(1);
  }
  static char log[8192];
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferBytes};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof log))};
  CUresult r = driver.cuModuleLoadDataEx(&m->module, m->ptx, 2, options, values);
  if (r != 0) {
    std::string detail = std::string(" (the driver could not compile the model's PTX") + (log[0] ? ": " : "") + log + ")";
    checkOrExit(r, "cuModuleLoadDataEx", detail.c_str());
  }
  return m->module;
}

} // namespace

void open(const std::string &deviceName) {
  if (opened) return;
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    throw RunError("this model runs on CUDA (" + deviceName + "): no CUDA driver (" + std::string(dlerror()) + ")");
  resolve(lib, driver.cuInit, "cuInit");
  resolve(lib, driver.cuDeviceGetCount, "cuDeviceGetCount");
  resolve(lib, driver.cuDeviceGet, "cuDeviceGet");
  resolve(lib, driver.cuDeviceGetName, "cuDeviceGetName");
  resolve(lib, driver.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  resolve(lib, driver.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  resolve(lib, driver.cuCtxSetCurrent, "cuCtxSetCurrent");
  resolve(lib, driver.cuStreamCreate, "cuStreamCreate");
  resolve(lib, driver.cuStreamSynchronize, "cuStreamSynchronize");
  resolve(lib, driver.cuModuleLoadDataEx, "cuModuleLoadDataEx");
  resolve(lib, driver.cuModuleGetFunction, "cuModuleGetFunction");
  resolve(lib, driver.cuLaunchKernel, "cuLaunchKernel");
  resolve(lib, driver.cuMemAlloc, "cuMemAlloc_v2");
  resolve(lib, driver.cuMemFree, "cuMemFree_v2");
  resolve(lib, driver.cuMemsetD8Async, "cuMemsetD8Async");
  resolve(lib, driver.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  resolve(lib, driver.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  resolve(lib, driver.cuGetErrorString, "cuGetErrorString");
  driver.cuStreamBeginCapture = reinterpret_cast<decltype(driver.cuStreamBeginCapture)>(dlsym(lib, "cuStreamBeginCapture_v2"));
  driver.cuStreamEndCapture = reinterpret_cast<decltype(driver.cuStreamEndCapture)>(dlsym(lib, "cuStreamEndCapture"));
  driver.cuGraphInstantiateWithFlags =
      reinterpret_cast<decltype(driver.cuGraphInstantiateWithFlags)>(dlsym(lib, "cuGraphInstantiateWithFlags"));
  driver.cuGraphLaunch = reinterpret_cast<decltype(driver.cuGraphLaunch)>(dlsym(lib, "cuGraphLaunch"));
  CUresult r = driver.cuInit(0);
  if (r != 0) throw RunError("this model runs on CUDA (" + deviceName + "): cuInit failed: " + errorText(r));
  int count = 0;
  check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count < 1) throw RunError("this model runs on CUDA (" + deviceName + "): no CUDA device");
  check(driver.cuDeviceGet(&device, 0), "cuDeviceGet");
  int major = 0, minor = 0;
  check(driver.cuDeviceGetAttribute(&major, kComputeCapabilityMajor, device), "cuDeviceGetAttribute");
  check(driver.cuDeviceGetAttribute(&minor, kComputeCapabilityMinor, device), "cuDeviceGetAttribute");
  // PTX for sm_NN runs on devices of compute capability NN and later.
  const int built = std::atoi(deviceName.c_str() + deviceName.find("sm_") + 3);
  if (major * 10 + minor < built)
    throw RunError("this model was compiled for " + deviceName + ", device 0 is sm_" + std::to_string(major * 10 + minor));
  check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
  check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  check(driver.cuStreamCreate(&stream, 0), "cuStreamCreate");
  opened = true;
}

std::string describe() {
  if (!opened) return "no device";
  char name[256] = {0};
  driver.cuDeviceGetName(name, sizeof name - 1, device);
  int major = 0, minor = 0;
  driver.cuDeviceGetAttribute(&major, kComputeCapabilityMajor, device);
  driver.cuDeviceGetAttribute(&minor, kComputeCapabilityMinor, device);
  return std::string(name) + ", sm_" + std::to_string(major * 10 + minor);
}

void bindThread() { check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent"); }

void *allocate(size_t bytes) {
  CUdeviceptr p = 0;
  CUresult r = driver.cuMemAlloc(&p, bytes ? bytes : 1);
  if (r != 0) throw RunError("out of device memory allocating " + std::to_string(bytes) + " bytes: " + errorText(r));
  check(driver.cuMemsetD8Async(p, 0, bytes, stream), "cuMemsetD8Async");
  return reinterpret_cast<void *>(uintptr_t(p));
}

void release(void *p) {
  if (opened && p) driver.cuMemFree(CUdeviceptr(uintptr_t(p)));
}

void upload(void *dst, const void *src, size_t bytes) {
  check(driver.cuMemcpyHtoDAsync(CUdeviceptr(uintptr_t(dst)), src, bytes, stream), "cuMemcpyHtoDAsync");
  // The host buffer may change once this returns (the next chunk's tokens).
  synchronize();
}

void download(void *dst, const void *src, size_t bytes) {
  check(driver.cuMemcpyDtoHAsync(dst, CUdeviceptr(uintptr_t(src)), bytes, stream), "cuMemcpyDtoHAsync");
  synchronize();
}

void synchronize() { check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize (a kernel failed)"); }

bool hasGraphs() {
  return opened && driver.cuStreamBeginCapture && driver.cuStreamEndCapture && driver.cuGraphInstantiateWithFlags &&
         driver.cuGraphLaunch;
}

void beginCapture() { check(driver.cuStreamBeginCapture(stream, kCaptureModeRelaxed), "cuStreamBeginCapture"); }

void *endCapture() {
  void *graph = nullptr, *exec = nullptr;
  check(driver.cuStreamEndCapture(stream, &graph), "cuStreamEndCapture");
  check(driver.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags");
  return exec;
}

void replay(void *graph) { check(driver.cuGraphLaunch(graph, stream), "cuGraphLaunch"); }

} // namespace qwen3c_rt::cuda

// --- what MLIR's gpu-to-llvm lowering calls ---------------------------------

using namespace qwen3c_rt::cuda;

extern "C" {

// The module constructor's call, before main: the PTX is loaded on first use.
void *mgpuModuleLoadJIT(void *ptx, int /*optLevel*/) {
  auto *m = static_cast<LazyModule *>(std::calloc(1, sizeof(LazyModule)));
  if (m) m->ptx = ptx;
  return m;
}

void *mgpuModuleLoad(void *data, size_t /*bytes*/) { return mgpuModuleLoadJIT(data, 0); }

void mgpuModuleUnload(void *) {} // the process is ending; the driver frees its modules

void *mgpuModuleGetFunction(void *module, const char *name) {
  auto *m = static_cast<LazyModule *>(module);
  if (!m->functions) m->functions = new std::unordered_map<const char *, CUfunction>();
  CUfunction &f = (*m->functions)[name];
  if (!f) checkOrExit(driver.cuModuleGetFunction(&f, loaded(m), name), "cuModuleGetFunction");
  return f;
}

// One stream for every launch: the generated code's per-launch stream,
// synchronisation and destruction become no-ops, so launches queue without
// a host round trip each (the runtime synchronises before reading back).
void *mgpuStreamCreate() { return stream; }
void mgpuStreamSynchronize(void *) {}
void mgpuStreamDestroy(void *) {}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *launchStream, void **params, void **extra, size_t /*count*/) {
  checkOrExit(driver.cuLaunchKernel(static_cast<CUfunction>(function), unsigned(gridX), unsigned(gridY), unsigned(gridZ),
                                    unsigned(blockX), unsigned(blockY), unsigned(blockZ), unsigned(smem),
                                    static_cast<CUstream>(launchStream), params, extra),
              "cuLaunchKernel");
}

} // extern "C"
