#pragma once
// The layouts of the official models, so benchmarks and tests can build full-size models with
// random weights when no checkpoint can be downloaded.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/model.h"
#include "core/engine/pickle.h"

namespace msplit::engine {

// "htdemucs" (the released layout), "htdemucs_6s", "hdemucs" (v3: hdemucs_mmi, mdx_extra).
std::vector<std::string> officialConfigNames();

struct RandomModel {
    std::shared_ptr<Model> model;
    int64_t parameters = 0;
    std::string klass;                        // as a checkpoint names it
    PyRef kwargs;                             // the model's keyword arguments
    std::map<std::string, at::Tensor> state;  // its random weights, as a checkpoint holds them
};

// The keyword arguments of an official layout. Throws Error for an unknown config name.
PyRef officialKwargs(const std::string& config);
// A model of `config` with random weights; `kwargs` (e.g. officialKwargs changed) replaces the
// official arguments when given. Throws Error for an unknown config name.
RandomModel buildRandomModel(const std::string& config, const at::TensorOptions& options,
                             uint64_t seed = 1, PyRef kwargs = nullptr);

}  // namespace msplit::engine
