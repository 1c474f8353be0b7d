#include "core/engine/blstm.h"

#include "core/engine/error.h"

namespace msplit::engine {

BLSTM::BLSTM(Params& p, const std::string& name, int64_t dim, int64_t layers, int64_t maxSteps)
    : dim_(dim), layers_(layers), maxSteps_(maxSteps) {
    if (maxSteps % 4) throw Error("BLSTM max_steps must be a multiple of 4");
    for (int64_t l = 0; l < layers; ++l) {
        const int64_t in = l == 0 ? dim : 2 * dim;
        for (const char* dir : {"", "_reverse"}) {
            const std::string sfx = "_l" + std::to_string(l) + dir;
            weights_.push_back(p.get(name + ".lstm.weight_ih" + sfx, {4 * dim, in}));
            weights_.push_back(p.get(name + ".lstm.weight_hh" + sfx, {4 * dim, dim}));
            weights_.push_back(p.get(name + ".lstm.bias_ih" + sfx, {4 * dim}));
            weights_.push_back(p.get(name + ".lstm.bias_hh" + sfx, {4 * dim}));
        }
    }
    linearWeight_ = p.get(name + ".linear.weight", {dim, 2 * dim});
    linearBias_ = p.get(name + ".linear.bias", {dim});
}

at::Tensor BLSTM::run(const at::Tensor& x) const {
    const int64_t B = x.size(0);
    const at::Tensor seq = x.permute({2, 0, 1});  // (T, B, C)
    const at::Tensor h0 = at::zeros({2 * layers_, B, dim_}, x.options());
    const at::Tensor out =
        std::get<0>(at::lstm(seq, {h0, h0}, weights_, true, layers_, 0.0, false, true, false));
    return at::linear(out, linearWeight_, linearBias_).permute({1, 2, 0});  // (B, C, T)
}

at::Tensor BLSTM::operator()(const at::Tensor& x) const {
    const int64_t B = x.size(0), C = x.size(1), T = x.size(2);
    if (T <= maxSteps_) return x + run(x);
    // Overlapping frames of maxSteps, half a frame apart; each keeps its middle.
    const int64_t width = maxSteps_, stride = width / 2, limit = stride / 2;
    const int64_t frames = (T + stride - 1) / stride;
    const at::Tensor padded =
        at::constant_pad_nd(x, {0, (frames - 1) * stride + width - T}).contiguous();
    const at::Tensor framed =
        padded.as_strided({B, C, frames, width}, {padded.stride(0), padded.stride(1), stride, 1});
    at::Tensor y =
        run(framed.permute({0, 2, 1, 3}).reshape({-1, C, width})).reshape({B, frames, C, width});
    std::vector<at::Tensor> parts;
    for (int64_t k = 0; k < frames; ++k) {
        const int64_t from = k == 0 ? 0 : limit, to = k == frames - 1 ? width : width - limit;
        parts.push_back(y.select(1, k).slice(-1, from, to));
    }
    return x + at::cat(parts, -1).slice(-1, 0, T);
}

}  // namespace msplit::engine
