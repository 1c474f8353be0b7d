#pragma once
// Turns a checkpoint file into a ready model on a device.
#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "core/engine/apply.h"
#include "core/engine/model.h"

namespace msplit::engine {

// Loads `path` (a Demucs .th file) with its weights converted to `options` (device, dtype).
// Throws Error naming the file and what is wrong with it.
std::shared_ptr<Model> loadModel(const std::string& path,
                                 const at::TensorOptions& options = at::kFloat);

// Loads every file of `spec` onto its device and precision as one bag (Separator::load's
// work, for the engine's tools and tests that need the models themselves). Throws Error.
std::shared_ptr<Bag> loadBag(const ModelSpec& spec);

}  // namespace msplit::engine
