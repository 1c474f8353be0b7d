#pragma once
// The encoder/decoder stack both hybrid models share (hdemucs.py and htdemucs.py build it the same
// way): frequency layers over a complex-as-channels spectrogram, a parallel time branch that
// merges into it where the strides meet, and time layers after the merge (v3).
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/engine/layers.h"

namespace msplit::engine {

class Kwargs;

struct UNetOptions {
    int64_t audioChannels = 2;
    int64_t sources = 4;
    int64_t channels = 48;
    int64_t channelsTime = 0;  // 0: same as channels
    double growth = 2;
    int64_t nfft = 4096;
    int64_t depth = 6;
    bool rewrite = true;
    bool hybrid = true;      // with the time branch
    bool hybridOld = false;  // the MDX models' zero-padded spectrogram (hdemucs.py hybrid_old)
    double freqEmb = 0.2;
    double embScale = 10;
    int64_t kernelSize = 8;
    int64_t timeStride = 2;
    int64_t stride = 4;
    int64_t context = 1;
    int64_t contextEnc = 0;
    int64_t normStarts = 4;
    int64_t normGroups = 4;
    int64_t dconvMode = 1;  // 1 encoder, 2 decoder, 3 both
    DConvOptions dconv;
    int64_t dconvLstmFrom = std::numeric_limits<int64_t>::max();  // layer index (v3)
    int64_t dconvAttnFrom = std::numeric_limits<int64_t>::max();

    // Reads the keyword arguments both models share (defaults differ per model).
    void read(Kwargs& kw);
};

class HybridUNet {
public:
    HybridUNet(Params& p, const UNetOptions& opt);

    // What the encoder hands the decoder.
    struct Skips {
        std::vector<at::Tensor> saved, savedT;
        std::vector<int64_t> lengths, lengthsT;
    };
    // What runs between the encoder and the decoder, on the innermost x and xt.
    using Middle = std::function<void(at::Tensor& x, at::Tensor& xt)>;
    // The whole forward both models share: spectrogram, normalisation of both branches, encode,
    // `middle`, decode, and back to (B, sources, channels, T) audio.
    at::Tensor forward(const at::Tensor& mix, const Middle& middle) const;

    // x: normalised spectrogram (B, 2C, F, T); xt: normalised waveform (B, C, T), or undefined
    // without a time branch. Both are replaced by the innermost representations.
    void encode(at::Tensor& x, at::Tensor& xt, Skips& skips) const;
    // Runs the decoders from the innermost x and xt; returns the spectrogram branch in x and the
    // waveform branch in xt.
    void decode(at::Tensor& x, at::Tensor& xt, Skips& skips) const;
    // Channels of the innermost frequency layer (the transformer's width in v4).
    int64_t innerChannels() const { return innerChannels_; }

private:
    std::vector<HEncLayer> encoder_, tencoder_;
    std::vector<HDecLayer> decoder_, tdecoder_;  // innermost first
    at::Tensor freqEmb_;                         // (freqs, channels), times its scale
    double freqEmbScale_ = 0;
    int64_t innerChannels_ = 0;
    int64_t nfft_, sources_;
    bool hybrid_, hybridOld_;
};

}  // namespace msplit::engine
