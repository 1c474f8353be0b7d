#include "core/engine/params.h"

#include <sstream>

#include "core/engine/error.h"

namespace msplit::engine {
namespace {

std::string shapeText(at::IntArrayRef shape) {
    std::ostringstream s;
    s << "(";
    for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
    s << ")";
    return s.str();
}

}  // namespace

Params::Params(std::map<std::string, at::Tensor> state, at::TensorOptions options)
    : state_(std::move(state)), options_(options) {}

at::Tensor Params::get(const std::string& name, const std::vector<int64_t>& shape) {
    auto it = state_.find(name);
    if (it == state_.end()) throw Error("the model has no parameter " + name + " (checkpoint does not match its configuration)");
    if (it->second.sizes() != at::IntArrayRef(shape))
        throw Error("parameter " + name + " has shape " + shapeText(it->second.sizes()) + ", the configuration implies " +
                    shapeText(shape));
    used_.insert(name);
    return it->second.to(options_).contiguous();
}

void Params::checkAllUsed() const {
    std::string unused;
    int count = 0;
    for (const auto& entry : state_) {
        if (used_.count(entry.first)) continue;
        if (count++ < 5) unused += (unused.empty() ? "" : ", ") + entry.first;
    }
    if (count)
        throw Error("the checkpoint has " + std::to_string(count) + " parameters its configuration does not use (" + unused +
                    (count > 5 ? ", ..." : "") + ")");
}

}  // namespace msplit::engine
