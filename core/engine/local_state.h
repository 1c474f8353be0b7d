#pragma once
// The local attention of the v3 DConv branch (demucs.py LocalState): content-based attention
// without positional embedding, penalised by learned decays of the time distance.
#include <ATen/ATen.h>

#include <string>

#include "core/engine/layers.h"

namespace msplit::engine {

class LocalState {
public:
    LocalState(Params& p, const std::string& name, int64_t channels, int64_t heads = 4,
               int64_t ndecay = 4);
    at::Tensor operator()(const at::Tensor& x) const;  // (B, C, T) -> (B, C, T)

private:
    int64_t heads_, ndecay_;
    Conv content_, query_, key_, queryDecay_, proj_;
};

}  // namespace msplit::engine
