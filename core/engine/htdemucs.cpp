#include "core/engine/htdemucs.h"

#include "core/engine/error.h"
#include "core/engine/kwargs.h"
#include "core/engine/spec.h"

namespace msplit::engine {

HTDemucs::HTDemucs(Kwargs& kw, Params& p) {
    options_ = p.options();
    sources_ = kw.strings("sources");
    audioChannels_ = kw.integer("audio_channels", 2);
    samplerate_ = kw.integer("samplerate", 44100);
    segment_ = kw.segment("segment", 10);
    useTrainSegment_ = kw.boolean("use_train_segment", true);
    const int64_t channels = kw.integer("channels", 48);
    const int64_t channelsTime = kw.integer("channels_time", 0);
    const double growth = kw.real("growth", 2);
    nfft_ = kw.integer("nfft", 4096);
    hop_ = nfft_ / 4;
    if (!kw.boolean("cac", true))
        throw Error("HTDemucs without complex-as-channels (Wiener filtering) is not supported");
    if (kw.integer("wiener_iters", 0) != kw.integer("end_iters", 0))
        throw Error("invalid model: wiener_iters != end_iters");
    depth_ = kw.integer("depth", 4);
    const bool rewrite = kw.boolean("rewrite", true);
    if (!kw.reals("multi_freqs").empty()) throw Error("HTDemucs with multi_freqs is not supported");
    kw.integer("multi_freqs_depth", 3);
    const double freqEmb = kw.real("freq_emb", 0.2);
    const double embScale = kw.real("emb_scale", 10);
    kw.boolean("emb_smooth", true);
    const int64_t kernelSize = kw.integer("kernel_size", 8);
    const int64_t timeStride = kw.integer("time_stride", 2);
    const int64_t stride = kw.integer("stride", 4);
    const int64_t context = kw.integer("context", 1);
    const int64_t contextEnc = kw.integer("context_enc", 0);
    const int64_t normStarts = kw.integer("norm_starts", 4);
    const int64_t normGroups = kw.integer("norm_groups", 4);
    const int64_t dconvMode = kw.integer("dconv_mode", 1);
    DConvOptions dconv;
    dconv.depth = static_cast<int>(kw.integer("dconv_depth", 2));
    dconv.compress = kw.real("dconv_comp", 8);
    kw.real("dconv_init", 1e-3);
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

    // Layer layout, as htdemucs.py builds it. Decoders are stored innermost first.
    int64_t timeLayers = 0;
    for (int64_t index = 0, f = nfft_ / 2; index < depth_; ++index) {
        if (f <= 1) continue;
        ++timeLayers;
        f = f <= kernelSize ? 1 : f / stride;
    }
    int64_t chin = audioChannels_, chinZ = 2 * chin;
    int64_t chout = channelsTime ? channelsTime : channels, choutZ = channels;
    int64_t freqs = nfft_ / 2;
    std::vector<HDecLayer> decoders, tdecoders;  // built outermost first
    for (int64_t index = 0; index < depth_; ++index) {
        const bool freq = freqs > 1;
        HLayerOptions kwf;
        kwf.kernelSize = kernelSize;
        kwf.stride = stride;
        kwf.freq = freq;
        kwf.norm = index >= normStarts;
        kwf.normGroups = normGroups;
        kwf.rewrite = rewrite;
        kwf.dconvOptions = dconv;
        if (!freq) {
            kwf.kernelSize = timeStride * 2;
            kwf.stride = timeStride;
        }
        bool lastFreq = false;
        if (freq && freqs <= kernelSize) {
            kwf.kernelSize = freqs;
            kwf.pad = false;
            lastFreq = true;
        }
        HLayerOptions kwt = kwf;
        kwt.freq = false;
        kwt.kernelSize = kernelSize;
        kwt.stride = stride;
        kwt.pad = true;
        if (lastFreq) {
            choutZ = std::max(chout, choutZ);
            chout = choutZ;
        }
        const std::string i = std::to_string(index);
        HLayerOptions enc = kwf;
        enc.dconv = dconvMode & 1;
        enc.context = contextEnc;
        encoder_.emplace_back(p, "encoder." + i, chinZ, choutZ, enc);
        if (freq) {
            HLayerOptions tenc = kwt;
            tenc.dconv = dconvMode & 1;
            tenc.context = contextEnc;
            tenc.empty = lastFreq;
            tencoder_.emplace_back(p, "tencoder." + i, chin, chout, tenc);
        }
        if (index == 0) {
            chin = audioChannels_ * static_cast<int64_t>(sources_.size());
            chinZ = 2 * chin;
        }
        HLayerOptions dec = kwf;
        dec.dconv = dconvMode & 2;
        dec.last = index == 0;
        dec.context = context;
        decoders.emplace_back(p, "decoder." + std::to_string(depth_ - 1 - index), choutZ, chinZ,
                              dec);
        if (freq) {
            HLayerOptions tdec = kwt;
            tdec.dconv = dconvMode & 2;
            tdec.empty = lastFreq;
            tdec.last = index == 0;
            tdec.context = context;
            tdecoders.emplace_back(p, "tdecoder." + std::to_string(timeLayers - 1 - index), chout,
                                   chin, tdec);
        }
        chin = chout;
        chinZ = choutZ;
        chout = static_cast<int64_t>(growth * static_cast<double>(chout));
        choutZ = static_cast<int64_t>(growth * static_cast<double>(choutZ));
        if (freq) freqs = freqs <= kernelSize ? 1 : freqs / stride;
        if (index == 0 && freqEmb != 0.0) {
            freqEmb_ = p.get("freq_emb.embedding.weight", {freqs, chinZ}) * embScale;
            freqEmbScale_ = freqEmb;
        }
    }
    decoder_.assign(std::make_move_iterator(decoders.rbegin()),
                    std::make_move_iterator(decoders.rend()));
    tdecoder_.assign(std::make_move_iterator(tdecoders.rbegin()),
                     std::make_move_iterator(tdecoders.rend()));

    int64_t transformerChannels =
        static_cast<int64_t>(static_cast<double>(channels) * std::pow(growth, depth_ - 1));
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

at::Tensor HTDemucs::spec(const at::Tensor& x) const {
    const int64_t le = (x.size(-1) + hop_ - 1) / hop_;
    const int64_t pad = hop_ / 2 * 3;
    at::Tensor padded = reflectPad1d(x, pad, pad + le * hop_ - x.size(-1));
    at::Tensor z = spectro(padded, nfft_, hop_);
    z = z.slice(-2, 0, z.size(-2) - 1);
    if (z.size(-1) != le + 4) throw Error("internal: unexpected spectrogram length");
    return z.slice(-1, 2, 2 + le);
}

at::Tensor HTDemucs::ispec(const at::Tensor& z, int64_t length) const {
    at::Tensor padded = at::constant_pad_nd(z, {0, 0, 0, 1});
    padded = at::constant_pad_nd(padded, {2, 2});
    const int64_t pad = hop_ / 2 * 3;
    const int64_t le = hop_ * ((length + hop_ - 1) / hop_) + 2 * pad;
    at::Tensor x = ispectro(padded, hop_, le);
    return x.slice(-1, pad, pad + length);
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
    at::Tensor z = spec(mix);
    // Complex as channels: (B, C, F, T) complex -> (B, 2C, F, T) real, [re, im] per channel.
    const int64_t B = z.size(0), C = z.size(1), Fq = z.size(2), T = z.size(3);
    at::Tensor x = at::view_as_real(z).permute({0, 1, 4, 2, 3}).reshape({B, C * 2, Fq, T});

    at::Tensor mean = x.mean({1, 2, 3}, true);
    at::Tensor std = x.std({1, 2, 3}, true, true);
    x = (x - mean) / (1e-5 + std);

    at::Tensor xt = mix;
    at::Tensor meanT = xt.mean({1, 2}, true);
    at::Tensor stdT = xt.std({1, 2}, true, true);
    xt = (xt - meanT) / (1e-5 + stdT);

    std::vector<at::Tensor> saved, savedT;
    std::vector<int64_t> lengths, lengthsT;
    for (size_t idx = 0; idx < encoder_.size(); ++idx) {
        lengths.push_back(x.size(-1));
        at::Tensor inject;
        if (idx < tencoder_.size()) {
            lengthsT.push_back(xt.size(-1));
            xt = tencoder_[idx](xt);
            if (!tencoder_[idx].empty())
                savedT.push_back(xt);
            else
                inject = xt;
        }
        x = encoder_[idx](x, inject);
        if (idx == 0 && freqEmb_.defined()) {
            // (freqs, C) -> (1, C, freqs, 1), broadcast over batch and time
            x = x + freqEmbScale_ * freqEmb_.t().unsqueeze(0).unsqueeze(-1);
        }
        saved.push_back(x);
    }
    if (transformer_) {
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
    }
    const size_t offset = decoder_.size() - tdecoder_.size();
    for (size_t idx = 0; idx < decoder_.size(); ++idx) {
        at::Tensor skip = saved.back();
        saved.pop_back();
        at::Tensor pre;
        std::tie(x, pre) = decoder_[idx](x, skip, lengths.back());
        lengths.pop_back();
        if (idx >= offset) {
            const HDecLayer& tdec = tdecoder_[idx - offset];
            const int64_t lengthT = lengthsT.back();
            lengthsT.pop_back();
            if (tdec.empty()) {
                if (pre.size(2) != 1)
                    throw Error("internal: frequency branch did not reach one bin");
                xt = tdec(pre.select(2, 0), {}, lengthT).first;
            } else {
                at::Tensor skipT = savedT.back();
                savedT.pop_back();
                xt = tdec(xt, skipT, lengthT).first;
            }
        }
    }

    const auto S = static_cast<int64_t>(sources_.size());
    x = x.view({B, S, -1, Fq, T}) * std.unsqueeze(1) + mean.unsqueeze(1);
    // Back to complex: (B, S, C, 2, F, T) -> (B, S, C, F, T, 2)
    at::Tensor zout =
        at::view_as_complex(x.view({B, S, -1, 2, Fq, T}).permute({0, 1, 2, 4, 5, 3}).contiguous());
    at::Tensor out = ispec(zout, outLength);
    xt = xt.view({B, S, -1, outLength}) * stdT.unsqueeze(1) + meanT.unsqueeze(1);
    out = xt + out;
    if (lengthPrePad) out = out.slice(-1, 0, lengthPrePad);
    return out;
}

}  // namespace msplit::engine
