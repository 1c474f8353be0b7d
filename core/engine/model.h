#pragma once
// What every separation model offers to the application code (apply.cpp).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace msplit::engine {

// A segment length in seconds, kept exact when the checkpoint gives a fraction (39/5 s) because
// Demucs computes sample counts as int(segment * samplerate).
struct Segment {
    double seconds = 0.0;
    int64_t num = 0, den = 0;  // den == 0: not a fraction

    static Segment fromSeconds(double s) { return Segment{s, 0, 0}; }
    static Segment fromFraction(int64_t n, int64_t d) {
        return Segment{double(n) / double(d), n, d};
    }
    int64_t samples(int64_t samplerate) const {
        return den ? (num * samplerate) / den
                   : static_cast<int64_t>(seconds * static_cast<double>(samplerate));
    }
};

class Model {
public:
    virtual ~Model() = default;

    // mix: (B, channels, T) -> (B, sources, channels, T), on the model's device.
    virtual at::Tensor forward(const at::Tensor& mix) const = 0;
    // The input length a forward call wants for a chunk of `length` samples.
    virtual int64_t validLength(int64_t length) const = 0;
    // Transformer models are tied to their training segment: it may only be shortened.
    virtual bool isTransformer() const = 0;
    virtual std::string className() const = 0;

    const std::vector<std::string>& sources() const { return sources_; }
    int64_t samplerate() const { return samplerate_; }
    int64_t audioChannels() const { return audioChannels_; }
    const Segment& segment() const { return segment_; }
    void setSegment(const Segment& s) { segment_ = s; }
    const at::TensorOptions& options() const { return options_; }
    // Scalars in its weights (what keeping it loaded costs).
    int64_t parameters() const { return parameters_; }
    void setParameters(int64_t n) { parameters_ = n; }

protected:
    std::vector<std::string> sources_;
    int64_t samplerate_ = 44100;
    int64_t audioChannels_ = 2;
    Segment segment_;
    at::TensorOptions options_;
    int64_t parameters_ = 0;
};

}  // namespace msplit::engine
