//===- ThreadPool.h - the runtime's threads -----------------------*- C++ -*-===//
//
// Generated code reaches the pool through one parallel-for ABI: the small
// subset of the OpenMP runtime interface (__kmpc_fork_call, static loop
// scheduling, barrier) that MLIR's scf.parallel -> omp lowering emits. The
// runtime implements it itself with spinning workers, so compiled models
// need no libomp (Debian ships it only as a shared library) and a parallel
// region costs a fraction of a microsecond.
//
//===----------------------------------------------------------------------===//
#ifndef QWEN3C_RUNTIME_THREADPOOL_H
#define QWEN3C_RUNTIME_THREADPOOL_H

namespace qwen3c_rt {

// Starts (or resizes to) `threads` threads, the caller included.
void setThreads(int threads);
int threadCount();

} // namespace qwen3c_rt

#endif
