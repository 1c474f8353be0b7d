#include "core/engine/local_state.h"

#include <cmath>

#include "core/engine/error.h"

namespace msplit::engine {

LocalState::LocalState(Params& p, const std::string& name, int64_t channels, int64_t heads,
                       int64_t ndecay)
    : heads_(heads), ndecay_(ndecay) {
    if (channels % heads) throw Error("LocalState: channels must divide into heads");
    content_ = Conv::conv1d(p, name + ".content", channels, channels, 1);
    query_ = Conv::conv1d(p, name + ".query", channels, channels, 1);
    key_ = Conv::conv1d(p, name + ".key", channels, channels, 1);
    if (ndecay) queryDecay_ = Conv::conv1d(p, name + ".query_decay", channels, heads * ndecay, 1);
    proj_ = Conv::conv1d(p, name + ".proj", channels, channels, 1);
}

at::Tensor LocalState::operator()(const at::Tensor& x) const {
    const int64_t B = x.size(0), T = x.size(2), H = heads_;
    const at::Tensor index = at::arange(T, x.options());
    const at::Tensor delta = index.unsqueeze(1) - index.unsqueeze(0);  // (t, s): key minus query
    const at::Tensor queries = query_(x).view({B, H, -1, T});
    const at::Tensor keys = key_(x).view({B, H, -1, T});
    // dots[b, h, t, s] = sum_c keys[b, h, c, t] * queries[b, h, c, s]
    at::Tensor dots = at::matmul(keys.transpose(2, 3), queries) / std::sqrt(double(keys.size(2)));
    if (ndecay_) {
        // demucs adds sum_f kernel[f, t, s] * decayQ[b, h, f, s] with kernel[f, t, s] =
        // -(f + 1) |t - s| / sqrt(ndecay): the sum over f factors out of the (t, s) grid, which
        // saves a (B, H, ndecay, T, T) intermediate.
        const at::Tensor decays = at::arange(1, ndecay_ + 1, x.options());
        const at::Tensor decayQ =
            at::sigmoid(queryDecay_(x).view({B, H, -1, T})) / 2;              // (B, H, f, s)
        const at::Tensor perQuery = at::matmul(decays, decayQ).unsqueeze(2);  // (B, H, 1, s)
        dots = dots - delta.abs() / std::sqrt(double(ndecay_)) * perQuery;
    }
    dots.masked_fill_(at::eye(T, x.options().dtype(at::kBool)), -100);
    const at::Tensor weights = at::softmax(dots, 2);
    const at::Tensor content = content_(x).view({B, H, -1, T});
    // result[b, h, c, s] = sum_t weights[b, h, t, s] * content[b, h, c, t]
    const at::Tensor result = at::matmul(content, weights).reshape({B, -1, T});
    return x + proj_(result);
}

}  // namespace msplit::engine
