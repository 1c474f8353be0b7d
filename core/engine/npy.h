#pragma once
// Minimal .npy reading and writing (float32, C order), for reference cases and tools.
#include <ATen/ATen.h>

#include <string>

namespace msplit::engine {

at::Tensor readNpy(const std::string& path);                  // throws Error
void writeNpy(const std::string& path, const at::Tensor& t);  // float32, written atomically

}  // namespace msplit::engine
