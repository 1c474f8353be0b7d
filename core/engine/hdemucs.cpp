#include "core/engine/hdemucs.h"

#include "core/engine/error.h"
#include "core/engine/kwargs.h"

namespace msplit::engine {

HDemucs::HDemucs(Kwargs& kw, Params& p) {
    options_ = p.options();
    sources_ = kw.strings("sources");
    samplerate_ = kw.integer("samplerate", 44100);
    segment_ = kw.segment("segment", 40);
    UNetOptions u;
    u.sources = static_cast<int64_t>(sources_.size());
    u.hybrid = kw.boolean("hybrid", true);
    u.hybridOld = kw.boolean("hybrid_old", false);
    u.dconvLstmFrom = kw.integer("dconv_lstm", 4);
    u.dconvAttnFrom = kw.integer("dconv_attn", 4);
    u.read(kw);
    kw.boolean("wiener_residual", false);  // Wiener filtering only, which cac models do not use
    kw.real("rescale", 0.1);               // initialisation only
    audioChannels_ = u.audioChannels;
    unet_ = std::make_unique<HybridUNet>(p, u);
}

at::Tensor HDemucs::forward(const at::Tensor& mix) const {
    // v3 decodes from zeros: the signal comes through the skips.
    return unet_->forward(mix, [](at::Tensor& x, at::Tensor&) { x = at::zeros_like(x); });
}

}  // namespace msplit::engine
