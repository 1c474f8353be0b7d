#include "core/engine/htdemucs.h"

#include "core/engine/error.h"
#include "core/engine/kwargs.h"

namespace msplit::engine {

HTDemucs::HTDemucs(Kwargs& kw, Params& p) {
    options_ = p.options();
    sources_ = kw.strings("sources");
    samplerate_ = kw.integer("samplerate", 44100);
    segment_ = kw.segment("segment", 10);
    useTrainSegment_ = kw.boolean("use_train_segment", true);
    UNetOptions u;
    u.sources = static_cast<int64_t>(sources_.size());
    u.depth = 4;
    u.dconv.compress = 8;
    u.read(kw);
    audioChannels_ = u.audioChannels;
    bottomChannels_ = kw.integer("bottom_channels", 0);

    TransformerOptions t;
    const int64_t tLayers = kw.integer("t_layers", 5);
    t.emb = kw.text("t_emb", "sin");
    t.hiddenScale = kw.real("t_hidden_scale", 4.0);
    t.heads = kw.integer("t_heads", 8);
    t.maxPositions = kw.integer("t_max_positions", 10000);
    t.normIn = kw.boolean("t_norm_in", true);
    t.normInGroup = kw.boolean("t_norm_in_group", false) ? 1 : 0;
    t.groupNorm = kw.boolean("t_group_norm", false) ? 1 : 0;
    t.normFirst = kw.boolean("t_norm_first", true);
    t.normOut = kw.boolean("t_norm_out", true) ? 1 : 0;
    t.maxPeriod = kw.real("t_max_period", 10000.0);
    t.layerScale = kw.boolean("t_layer_scale", true);
    t.gelu = kw.boolean("t_gelu", true);
    t.weightPosEmbed = kw.real("t_weight_pos_embed", 1.0);
    t.capeMeanNormalize = kw.boolean("t_cape_mean_normalize", true);
    t.crossFirst = kw.boolean("t_cross_first", false);
    if (kw.integer("t_sin_random_shift", 0) != 0)
        throw Error(
            "HTDemucs with a random positional shift (t_sin_random_shift) is a training feature; "
            "not supported");
    if (kw.boolean("t_sparse_self_attn", false) || kw.boolean("t_sparse_cross_attn", false))
        throw Error(
            "HTDemucs with sparse attention (t_sparse_self_attn / t_sparse_cross_attn) is not "
            "supported");

    unet_ = std::make_unique<HybridUNet>(p, u);
    int64_t transformerChannels = unet_->innerChannels();
    if (bottomChannels_) {
        upsampler_ = Conv::conv1d(p, "channel_upsampler", transformerChannels, bottomChannels_, 1);
        downsampler_ =
            Conv::conv1d(p, "channel_downsampler", bottomChannels_, transformerChannels, 1);
        upsamplerT_ =
            Conv::conv1d(p, "channel_upsampler_t", transformerChannels, bottomChannels_, 1);
        downsamplerT_ =
            Conv::conv1d(p, "channel_downsampler_t", bottomChannels_, transformerChannels, 1);
        transformerChannels = bottomChannels_;
    }
    if (tLayers > 0) {
        t.dim = transformerChannels;
        t.layers = tLayers;
        transformer_ = std::make_unique<CrossTransformer>(p, "crosstransformer", t);
    }
}

int64_t HTDemucs::validLength(int64_t length) const {
    if (!useTrainSegment_) return length;
    const int64_t training = segment_.samples(samplerate_);
    if (training < length)
        throw Error("a chunk of " + std::to_string(length) +
                    " samples is longer than the model's training segment (" +
                    std::to_string(training) + ")");
    return training;
}

at::Tensor HTDemucs::forward(const at::Tensor& input) const {
    at::Tensor mix = input;
    const int64_t length = mix.size(-1);
    int64_t lengthPrePad = 0;
    int64_t outLength = length;
    if (useTrainSegment_) {
        outLength = segment_.samples(samplerate_);
        if (length < outLength) {
            lengthPrePad = length;
            mix = at::constant_pad_nd(mix, {0, outLength - length});
        } else if (length > outLength) {
            throw Error("input longer than the model's training segment");
        }
    }
    at::Tensor out = unet_->forward(mix, [this](at::Tensor& x, at::Tensor& xt) {
        if (!transformer_) return;
        const int64_t f = x.size(2), t = x.size(3);
        if (bottomChannels_) {
            x = upsampler_(x.reshape({x.size(0), x.size(1), f * t})).view({x.size(0), -1, f, t});
            xt = upsamplerT_(xt);
        }
        std::tie(x, xt) = (*transformer_)(x, xt);
        if (bottomChannels_) {
            x = downsampler_(x.reshape({x.size(0), x.size(1), f * t})).view({x.size(0), -1, f, t});
            xt = downsamplerT_(xt);
        }
    });
    if (lengthPrePad) out = out.slice(-1, 0, lengthPrePad);
    return out;
}

}  // namespace msplit::engine
