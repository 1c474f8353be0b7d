#pragma once
// Device choice and CPU threading for the engine.
#include <ATen/ATen.h>

#include <string>

namespace msplit::engine {

// "auto" (CUDA when available), "cpu", "cuda" or "cuda:N". Throws Error for unknown or absent
// devices.
at::Device parseDevice(const std::string& name);
// A human-readable name: "CPU (8 threads)" or the GPU's name.
std::string deviceDescription(const at::Device& device);
// The NVIDIA GPU's model name ("NVIDIA H200"), or empty when the driver does not say.
std::string gpuName(int index);
bool cudaAvailable();
// Whether a device setting means a GPU here ("auto" does when CUDA is available); never throws.
bool meansGpu(const std::string& name);

// Sets LibTorch's and the BLAS library's threads; n <= 0 means all cores (Debian's LibTorch
// starts with one). Calls prepareProcess() first.
void setThreads(int n);
// What every program calls first, before any thread starts (later calls do nothing): installs
// the engine's allocator for large tensors (allocator.h), tunes glibc's for the small ones, and
// tunes OpenBLAS (blas.h).
void prepareProcess();

// "float32", "float16" or "bfloat16": reduced precision is for CUDA only.
at::ScalarType parsePrecision(const std::string& name, const at::Device& device);

}  // namespace msplit::engine
