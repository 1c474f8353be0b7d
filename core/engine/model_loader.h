#pragma once
// Turns a checkpoint file into a ready model on a device.
#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "core/engine/model.h"

namespace msplit::engine {

// Loads `path` (a Demucs .th file) with its weights converted to `options` (device, dtype).
// Throws Error naming the file and what is wrong with it.
std::shared_ptr<Model> loadModel(const std::string& path,
                                 const at::TensorOptions& options = at::kFloat);

}  // namespace msplit::engine
