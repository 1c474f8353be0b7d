#pragma once
// Hybrid Demucs (v3, hdemucs.py), inference only: the hybrid U-Net without a transformer, with
// LSTM and local attention in its deepest residual branches. Used by hdemucs_mmi and mdx_extra.
#include <memory>

#include "core/engine/hybrid_unet.h"
#include "core/engine/model.h"

namespace msplit::engine {

class Kwargs;

class HDemucs : public Model {
public:
    HDemucs(Kwargs& kwargs, Params& params);

    at::Tensor forward(const at::Tensor& mix) const override;
    int64_t validLength(int64_t length) const override { return length; }
    bool isTransformer() const override { return false; }
    std::string className() const override { return "HDemucs"; }

private:
    std::unique_ptr<HybridUNet> unet_;
};

}  // namespace msplit::engine
