#pragma once
// Hands a model's tensors to its layers by name, checking each shape against the layout the
// configuration implies, so a checkpoint that does not fit its config is refused, not misread.
#include <ATen/ATen.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace msplit::engine {

// "(2, 3)": a shape as error messages show it.
std::string shapeText(at::IntArrayRef shape);

class Params {
public:
    // Tensors are moved to `options` (device and floating dtype) as they are taken.
    Params(std::map<std::string, at::Tensor> state, at::TensorOptions options);
    // Random weights of plausible scale for every parameter asked for (benchmarks, tests).
    static Params random(at::TensorOptions options, uint64_t seed = 0);

    // The tensor `name` with exactly `shape`; throws Error if missing or of another shape.
    at::Tensor get(const std::string& name, const std::vector<int64_t>& shape);
    bool has(const std::string& name) const { return state_.count(name) > 0; }
    // Throws Error naming the entries no layer asked for (a layout mismatch).
    void checkAllUsed() const;
    const at::TensorOptions& options() const { return options_; }
    // Number of scalars in the parameters taken so far.
    int64_t usedElements() const;
    // Every tensor (for random models: those made so far), by name.
    const std::map<std::string, at::Tensor>& state() const { return state_; }

private:
    std::map<std::string, at::Tensor> state_;
    std::set<std::string> used_;
    at::TensorOptions options_;
    bool random_ = false;
    uint64_t seed_ = 0;
    size_t created_ = 0;  // number of random tensors made
};

}  // namespace msplit::engine
