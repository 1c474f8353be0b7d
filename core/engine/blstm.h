#pragma once
// The bidirectional LSTM of the v3 DConv branch (demucs.py BLSTM): two layers, hidden size equal
// to the input's, a linear projection back, and a skip connection. Long inputs are cut into
// overlapping frames of `maxSteps`, whose middles are kept.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "core/engine/params.h"

namespace msplit::engine {

class BLSTM {
public:
    BLSTM(Params& p, const std::string& name, int64_t dim, int64_t layers = 2,
          int64_t maxSteps = 200);
    at::Tensor operator()(const at::Tensor& x) const;  // (B, C, T) -> (B, C, T)

private:
    at::Tensor run(const at::Tensor& x) const;  // LSTM + linear on (B, C, T)
    int64_t dim_, layers_, maxSteps_;
    std::vector<at::Tensor> weights_;  // per layer and direction: w_ih, w_hh, b_ih, b_hh
    at::Tensor linearWeight_, linearBias_;
};

}  // namespace msplit::engine
