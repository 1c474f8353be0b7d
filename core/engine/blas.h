#pragma once
// The BLAS library under LibTorch's matrix products (OpenBLAS on Debian; MKL in PyTorch's own
// LibTorch builds), which keeps its own kernel choice and thread pool.
#include <string>

#include "core/engine/engine.h"  // blasDescription()

namespace msplit::engine {

// Once per process, before any matrix product (setThreads() calls it first, on the main thread):
//
// - When OpenBLAS did not recognise the CPU and fell back to kernels older than AVX2 although the
//   CPU has AVX2 or AVX-512, it is switched to its kernels for those (SkylakeX with AVX-512;
//   Haswell, or Zen on AMD, with AVX2 and FMA). Why: Debian 12's OpenBLAS 0.3.21 does not know
//   e.g. Emerald Rapids and takes SSE3 "Prescott" kernels, 5-7x slower (35 instead of 270
//   GFLOP/s on 2 cores there).
// - OpenBLAS's idle threads sleep at once instead of spinning (for 2^28 cycles by default):
//   LibTorch's own threads run the norms, softmax and additions between two matrix products,
//   and spinning threads took their cores (about 10% of a forward on 2 cores).
//
// OpenBLAS reads OPENBLAS_CORETYPE and OPENBLAS_THREAD_TIMEOUT only when it loads, before any of
// our code runs, so this re-runs its own kernel selection and restarts its thread pool with them
// set. A user's OPENBLAS_CORETYPE or OPENBLAS_THREAD_TIMEOUT is left alone, and other BLAS
// libraries are not touched.
void tuneBlas();

// Sets the BLAS library's own thread count (OpenBLAS's pool is separate from LibTorch's).
// Does nothing with other BLAS libraries. setThreads() calls it.
void setBlasThreads(int n);

}  // namespace msplit::engine
