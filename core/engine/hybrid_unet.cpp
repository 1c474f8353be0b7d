#include "core/engine/hybrid_unet.h"

#include "core/engine/error.h"
#include "core/engine/kwargs.h"
#include "core/engine/layers.h"
#include "core/engine/spec.h"

namespace msplit::engine {

void UNetOptions::read(Kwargs& kw) {
    audioChannels = kw.integer("audio_channels", audioChannels);
    channels = kw.integer("channels", channels);
    channelsTime = kw.integer("channels_time", channelsTime);
    growth = kw.real("growth", growth);
    nfft = kw.integer("nfft", nfft);
    depth = kw.integer("depth", depth);
    rewrite = kw.boolean("rewrite", rewrite);
    freqEmb = kw.real("freq_emb", freqEmb);
    embScale = kw.real("emb_scale", embScale);
    kw.boolean("emb_smooth", true);  // initialisation only
    kernelSize = kw.integer("kernel_size", kernelSize);
    timeStride = kw.integer("time_stride", timeStride);
    stride = kw.integer("stride", stride);
    context = kw.integer("context", context);
    contextEnc = kw.integer("context_enc", contextEnc);
    normStarts = kw.integer("norm_starts", normStarts);
    normGroups = kw.integer("norm_groups", normGroups);
    dconvMode = kw.integer("dconv_mode", dconvMode);
    dconv.depth = static_cast<int>(kw.integer("dconv_depth", dconv.depth));
    dconv.compress = kw.real("dconv_comp", dconv.compress);
    kw.real("dconv_init", 1e-4);  // initialisation only
    if (!kw.reals("multi_freqs").empty()) throw Error("models with multi_freqs are not supported");
    kw.integer("multi_freqs_depth", 2);
    if (!kw.boolean("cac", true))
        throw Error("models without complex-as-channels (Wiener filtering) are not supported");
    if (kw.integer("wiener_iters", 0) != kw.integer("end_iters", 0))
        throw Error("invalid model: wiener_iters != end_iters");
}

HybridUNet::HybridUNet(Params& p, const UNetOptions& o)
    : nfft_(o.nfft), sources_(o.sources), hybrid_(o.hybrid), hybridOld_(o.hybridOld) {
    if (hybridOld_ && !hybrid_) throw Error("invalid model: hybrid_old without hybrid");
    // The layout of hdemucs.py / htdemucs.py. Decoders are built outermost first, stored innermost
    // first.
    int64_t timeLayers = 0;
    for (int64_t index = 0, f = o.nfft / 2; index < o.depth && o.hybrid; ++index) {
        if (f <= 1) continue;
        ++timeLayers;
        f = f <= o.kernelSize ? 1 : f / o.stride;
    }
    int64_t chin = o.audioChannels, chinZ = 2 * chin;
    int64_t chout = o.channelsTime ? o.channelsTime : o.channels, choutZ = o.channels;
    int64_t freqs = o.nfft / 2;
    std::vector<HDecLayer> decoders, tdecoders;
    for (int64_t index = 0; index < o.depth; ++index) {
        const bool freq = freqs > 1;
        HLayerOptions kwf;
        kwf.kernelSize = o.kernelSize;
        kwf.stride = o.stride;
        kwf.freq = freq;
        kwf.norm = index >= o.normStarts;
        kwf.normGroups = o.normGroups;
        kwf.rewrite = o.rewrite;
        kwf.dconvOptions = o.dconv;
        kwf.dconvOptions.lstm = index >= o.dconvLstmFrom;
        kwf.dconvOptions.attn = index >= o.dconvAttnFrom;
        if (!freq) {
            kwf.kernelSize = o.timeStride * 2;
            kwf.stride = o.timeStride;
        }
        bool lastFreq = false;
        if (freq && freqs <= o.kernelSize) {
            kwf.kernelSize = freqs;
            kwf.pad = false;
            lastFreq = true;
        }
        HLayerOptions kwt = kwf;
        kwt.freq = false;
        kwt.kernelSize = o.kernelSize;
        kwt.stride = o.stride;
        kwt.pad = true;
        if (lastFreq) {
            choutZ = std::max(chout, choutZ);
            chout = choutZ;
        }
        const std::string i = std::to_string(index);
        HLayerOptions enc = kwf;
        enc.dconv = o.dconvMode & 1;
        enc.context = o.contextEnc;
        encoder_.emplace_back(p, "encoder." + i, chinZ, choutZ, enc);
        if (o.hybrid && freq) {
            HLayerOptions tenc = kwt;
            tenc.dconv = o.dconvMode & 1;
            tenc.context = o.contextEnc;
            tenc.empty = lastFreq;
            tencoder_.emplace_back(p, "tencoder." + i, chin, chout, tenc);
        }
        if (index == 0) {
            chin = o.audioChannels * o.sources;
            chinZ = 2 * chin;
        }
        HLayerOptions dec = kwf;
        dec.dconv = o.dconvMode & 2;
        dec.last = index == 0;
        dec.context = o.context;
        decoders.emplace_back(p, "decoder." + std::to_string(o.depth - 1 - index), choutZ, chinZ,
                              dec);
        if (o.hybrid && freq) {
            HLayerOptions tdec = kwt;
            tdec.dconv = o.dconvMode & 2;
            tdec.empty = lastFreq;
            tdec.last = index == 0;
            tdec.context = o.context;
            tdecoders.emplace_back(p, "tdecoder." + std::to_string(timeLayers - 1 - index), chout,
                                   chin, tdec);
        }
        innerChannels_ = choutZ;
        chin = chout;
        chinZ = choutZ;
        chout = static_cast<int64_t>(o.growth * static_cast<double>(chout));
        choutZ = static_cast<int64_t>(o.growth * static_cast<double>(choutZ));
        if (freq) freqs = freqs <= o.kernelSize ? 1 : freqs / o.stride;
        if (index == 0 && o.freqEmb != 0.0) {
            freqEmb_ = p.get("freq_emb.embedding.weight", {freqs, chinZ}) * o.embScale;
            freqEmbScale_ = o.freqEmb;
        }
    }
    decoder_.assign(std::make_move_iterator(decoders.rbegin()),
                    std::make_move_iterator(decoders.rend()));
    tdecoder_.assign(std::make_move_iterator(tdecoders.rbegin()),
                     std::make_move_iterator(tdecoders.rend()));
}

at::Tensor HybridUNet::forward(const at::Tensor& input, const Middle& middle) const {
    // The spectrogram, its inverse and the normalisations stay in float32 whatever the layers'
    // precision (bfloat16 has an 8-bit mantissa; LibTorch has no reduced-precision STFT on the
    // CPU): only the encoders, the middle and the decoders run in the model's type.
    const at::ScalarType dtype = input.scalar_type();
    const at::Tensor mix = input.to(at::kFloat);
    const int64_t length = mix.size(-1), hop = nfft_ / 4;
    const at::Tensor z = hybrid_ ? hybridSpec(mix, nfft_, hop, hybridOld_)
                                 : spectro(mix, nfft_, hop).slice(-2, 0, nfft_ / 2);
    const int64_t B = z.size(0), Fq = z.size(2), T = z.size(3);
    at::Tensor x = complexToChannels(z);
    const at::Tensor mean = x.mean({1, 2, 3}, true);
    const at::Tensor std = x.std({1, 2, 3}, true, true);
    x = ((x - mean) / (1e-5 + std)).to(dtype);
    at::Tensor meanT, stdT, xt;
    if (hybrid_) {
        meanT = mix.mean({1, 2}, true);
        stdT = mix.std({1, 2}, true, true);
        xt = ((mix - meanT) / (1e-5 + stdT)).to(dtype);
    }

    Skips skips;
    encode(x, xt, skips);
    middle(x, xt);
    decode(x, xt, skips);

    // From here each stage frees the one before: the decoder's output, its complex copy and the
    // padded spectrogram are each as large as the whole forward's largest tensors.
    x = x.to(at::kFloat).view({B, sources_, -1, Fq, T});
    if (exclusive(x))
        x.mul_(std.unsqueeze(1)).add_(mean.unsqueeze(1));
    else
        x = x * std.unsqueeze(1) + mean.unsqueeze(1);
    at::Tensor zout = channelsToComplex(x);
    x.reset();
    at::Tensor out = hybrid_ ? hybridIspec(std::move(zout), hop, length, hybridOld_)
                             : ispectro(at::constant_pad_nd(zout, {0, 0, 0, 1}), hop, length);
    if (hybrid_)
        out = out + xt.to(at::kFloat).view({B, sources_, -1, length}) * stdT.unsqueeze(1) +
              meanT.unsqueeze(1);
    return out;
}

void HybridUNet::encode(at::Tensor& x, at::Tensor& xt, Skips& s) const {
    for (size_t idx = 0; idx < encoder_.size(); ++idx) {
        s.lengths.push_back(x.size(-1));
        at::Tensor inject;
        if (idx < tencoder_.size()) {
            s.lengthsT.push_back(xt.size(-1));
            xt = tencoder_[idx](std::move(xt));
            if (!tencoder_[idx].empty())
                s.savedT.push_back(xt);
            else
                inject = xt;  // the time branch joins the frequency branch here
        }
        x = encoder_[idx](std::move(x), inject);
        if (idx == 0 && freqEmb_.defined())  // (freqs, C) -> (1, C, freqs, 1)
            x = x + freqEmbScale_ * freqEmb_.t().unsqueeze(0).unsqueeze(-1);
        s.saved.push_back(x);
    }
}

void HybridUNet::decode(at::Tensor& x, at::Tensor& xt, Skips& s) const {
    // Tensors are moved into the layers, which free them once used: a skip lives until its
    // decoder has added it, not until the end of the loop.
    const size_t offset = decoder_.size() - tdecoder_.size();
    for (size_t idx = 0; idx < decoder_.size(); ++idx) {
        at::Tensor skip = std::move(s.saved.back());
        s.saved.pop_back();
        const HDecLayer* tdec = idx < offset ? nullptr : &tdecoder_[idx - offset];
        const bool branchesPart = tdec && tdec->empty();  // the time branch starts from `pre`
        at::Tensor pre;
        std::tie(x, pre) =
            decoder_[idx](std::move(x), std::move(skip), s.lengths.back(), branchesPart);
        s.lengths.pop_back();
        if (!tdec) continue;
        const int64_t lengthT = s.lengthsT.back();
        s.lengthsT.pop_back();
        if (branchesPart) {
            if (pre.size(2) != 1) throw Error("internal: frequency branch did not reach one bin");
            xt = (*tdec)(pre.select(2, 0), {}, lengthT).first;
        } else {
            at::Tensor skipT = std::move(s.savedT.back());
            s.savedT.pop_back();
            xt = (*tdec)(std::move(xt), std::move(skipT), lengthT).first;
        }
    }
}

}  // namespace msplit::engine
