#pragma once
// Hybrid Transformer Demucs (v4, htdemucs.py), inference only.
#include <memory>
#include <vector>

#include "core/engine/hybrid_unet.h"
#include "core/engine/layers.h"
#include "core/engine/model.h"
#include "core/engine/transformer.h"

namespace msplit::engine {

class Kwargs;

class HTDemucs : public Model {
public:
    HTDemucs(Kwargs& kwargs, Params& params);

    at::Tensor forward(const at::Tensor& mix) const override;
    int64_t validLength(int64_t length) const override;
    bool isTransformer() const override { return true; }
    std::string className() const override { return "HTDemucs"; }

private:
    int64_t bottomChannels_ = 0;
    bool useTrainSegment_ = true;
    std::unique_ptr<HybridUNet> unet_;
    std::unique_ptr<CrossTransformer> transformer_;
    Conv upsampler_, downsampler_, upsamplerT_, downsamplerT_;
};

}  // namespace msplit::engine
