#include "core/engine/hdemucs.h"

#include "core/engine/error.h"
#include "core/engine/kwargs.h"
#include "core/engine/spec.h"

namespace msplit::engine {

HDemucs::HDemucs(Kwargs& kw, Params& p) {
    options_ = p.options();
    sources_ = kw.strings("sources");
    samplerate_ = kw.integer("samplerate", 44100);
    segment_ = kw.segment("segment", 40);
    UNetOptions u;
    u.sources = static_cast<int64_t>(sources_.size());
    hybrid_ = u.hybrid = kw.boolean("hybrid", true);
    hybridOld_ = kw.boolean("hybrid_old", false);
    if (hybridOld_ && !hybrid_) throw Error("invalid model: hybrid_old without hybrid");
    u.dconvLstmFrom = kw.integer("dconv_lstm", 4);
    u.dconvAttnFrom = kw.integer("dconv_attn", 4);
    u.read(kw);
    kw.boolean("wiener_residual", false);  // Wiener filtering only, which cac models do not use
    kw.real("rescale", 0.1);               // initialisation only
    audioChannels_ = u.audioChannels;
    nfft_ = u.nfft;
    hop_ = nfft_ / 4;
    unet_ = std::make_unique<HybridUNet>(p, u);
}

at::Tensor HDemucs::forward(const at::Tensor& mix) const {
    const int64_t length = mix.size(-1);
    const at::Tensor z = hybrid_ ? hybridSpec(mix, nfft_, hop_, hybridOld_)
                                 : spectro(mix, nfft_, hop_).slice(-2, 0, nfft_ / 2);
    const int64_t B = z.size(0), Fq = z.size(2), T = z.size(3);
    at::Tensor x = complexToChannels(z);
    const at::Tensor mean = x.mean({1, 2, 3}, true);
    const at::Tensor std = x.std({1, 2, 3}, true, true);
    x = (x - mean) / (1e-5 + std);
    at::Tensor meanT, stdT, xt;
    if (hybrid_) {
        meanT = mix.mean({1, 2}, true);
        stdT = mix.std({1, 2}, true, true);
        xt = (mix - meanT) / (1e-5 + stdT);
    }

    HybridUNet::Skips skips;
    unet_->encode(x, xt, skips);
    x = at::zeros_like(x);  // v3 decodes from zeros: the signal comes through the skips
    unet_->decode(x, xt, skips);

    const auto S = static_cast<int64_t>(sources_.size());
    x = x.view({B, S, -1, Fq, T}) * std.unsqueeze(1) + mean.unsqueeze(1);
    const at::Tensor zout = channelsToComplex(x);
    at::Tensor out = hybrid_ ? hybridIspec(zout, hop_, length, hybridOld_)
                             : ispectro(at::constant_pad_nd(zout, {0, 0, 0, 1}), hop_, length);
    if (hybrid_) out = out + xt.view({B, S, -1, length}) * stdT.unsqueeze(1) + meanT.unsqueeze(1);
    return out;
}

}  // namespace msplit::engine
