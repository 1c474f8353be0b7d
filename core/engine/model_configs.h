#pragma once
// The layouts of the official models, so benchmarks and tests can build full-size models with
// random weights when no checkpoint can be downloaded.
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "core/engine/model.h"

namespace msplit::engine {

// "htdemucs" (the released layout), "htdemucs_6s".
std::vector<std::string> officialConfigNames();

struct RandomModel {
    std::shared_ptr<Model> model;
    int64_t parameters = 0;
};

// Throws Error for an unknown config name.
RandomModel buildRandomModel(const std::string& config, const at::TensorOptions& options,
                             uint64_t seed = 1);

}  // namespace msplit::engine
