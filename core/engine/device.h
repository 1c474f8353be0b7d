#pragma once
// Device choice and CPU threading for the engine: LibTorch's side of what engine.h offers.
#include <ATen/ATen.h>

#include <string>

#include "core/engine/engine.h"

namespace msplit::engine {

// "auto" (CUDA when available), "cpu", "cuda" or "cuda:N". Throws Error for unknown or absent
// devices.
at::Device parseDevice(const std::string& name);
// A human-readable name: "CPU (8 threads)" or the GPU's name.
std::string deviceDescription(const at::Device& device);

// "float32", "float16" or "bfloat16": float16 on CUDA only, bfloat16 also on CPUs that have it.
at::ScalarType parsePrecision(const std::string& name, const at::Device& device);
// Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16). The CPU path is
// offered with LibTorch 1.x only (measured too far from float32 with 2.6).
bool cpuHasBf16();

}  // namespace msplit::engine
