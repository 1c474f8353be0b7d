#include "core/engine/params.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

#include "core/engine/error.h"

namespace msplit::engine {

std::string shapeText(at::IntArrayRef shape) {
    std::ostringstream s;
    s << "(";
    for (size_t i = 0; i < shape.size(); ++i)
        s << (i ? ", " : "") << shape[i];
    s << ")";
    return s.str();
}

Params::Params(std::map<std::string, at::Tensor> state, at::TensorOptions options)
    : state_(std::move(state)), options_(options) {}

Params Params::random(at::TensorOptions options, uint64_t seed) {
    Params p({}, options);
    p.random_ = true;
    p.seed_ = seed;
    return p;
}

at::Tensor Params::get(const std::string& name, const std::vector<int64_t>& shape) {
    if (random_ && !state_.count(name)) {
        // Scale like a trained network: normalised weights, fan-in scaled matrices. Values stay
        // far from denormals so timings are representative.
        at::Generator gen = at::detail::createCPUGenerator(seed_ + created_++);
        at::Tensor t;
        if (shape.size() == 1) {
            const bool isScale = name.size() > 6 && name.compare(name.size() - 6, 6, ".scale") == 0;
            const bool isWeight =
                name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
            t = isScale ? at::full(shape, 0.1) : isWeight ? at::ones(shape) : at::zeros(shape);
            t = t + 0.01 * at::randn(shape, gen);
        } else {
            int64_t fanIn = 1;
            for (size_t i = 1; i < shape.size(); ++i)
                fanIn *= shape[i];
            t = at::randn(shape, gen) / std::sqrt(static_cast<double>(std::max<int64_t>(fanIn, 1)));
        }
        state_[name] = t;
    }
    auto it = state_.find(name);
    if (it == state_.end())
        throw Error("the checkpoint is missing parameter " + name +
                    " (it does not match its configuration)");
    if (it->second.sizes() != at::IntArrayRef(shape))
        throw Error("parameter " + name + " has shape " + shapeText(it->second.sizes()) +
                    ", the configuration implies " + shapeText(shape));
    used_.insert(name);
    return it->second.to(options_).contiguous();
}

int64_t Params::usedElements() const {
    int64_t n = 0;
    for (const auto& name : used_)
        n += state_.at(name).numel();
    return n;
}

void Params::checkAllUsed() const {
    std::string unused;
    int count = 0;
    for (const auto& entry : state_) {
        if (used_.count(entry.first)) continue;
        if (count++ < 5) unused += (unused.empty() ? "" : ", ") + entry.first;
    }
    if (count)
        throw Error("the checkpoint has " + std::to_string(count) +
                    " parameters its configuration does not use (" + unused +
                    (count > 5 ? ", ..." : "") + ")");
}

}  // namespace msplit::engine
