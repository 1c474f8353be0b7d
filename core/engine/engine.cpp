#include "core/engine/engine.h"

#include <algorithm>
#include <cmath>

#include "core/engine/allocator.h"
#include "core/engine/apply.h"
#include "core/engine/device.h"
#include "core/engine/model_configs.h"
#include "core/engine/model_loader.h"
#include "core/engine/stream.h"

namespace msplit::engine {

struct Separator::Impl {
    std::shared_ptr<Bag> bag;
    at::Device device = at::kCPU;
    int64_t parameters = 0;
};

Separator::Separator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Separator::~Separator() = default;

std::shared_ptr<const Separator> Separator::load(const ModelSpec& spec) {
    auto impl = std::make_unique<Impl>();
    impl->bag = loadBag(spec);  // parses and checks the device and precision
    impl->device = impl->bag->models().front()->options().device();
    for (const auto& model : impl->bag->models())
        impl->parameters += model->parameters();
    return std::shared_ptr<const Separator>(new Separator(std::move(impl)));
}

std::shared_ptr<const Separator> Separator::random(const std::string& config,
                                                   const std::string& device,
                                                   const std::string& precision) {
    auto impl = std::make_unique<Impl>();
    impl->device = parseDevice(device);
    const at::ScalarType dtype = parsePrecision(precision, impl->device);
    RandomModel built =
        buildRandomModel(config, at::TensorOptions().device(impl->device).dtype(dtype));
    impl->parameters = built.parameters;
    impl->bag = std::make_shared<Bag>(std::vector<std::shared_ptr<Model>>{built.model});
    return std::shared_ptr<const Separator>(new Separator(std::move(impl)));
}

const std::vector<std::string>& Separator::sources() const {
    return impl_->bag->sources();
}
int Separator::sampleRate() const {
    return static_cast<int>(impl_->bag->samplerate());
}
int Separator::channels() const {
    return static_cast<int>(impl_->bag->audioChannels());
}
double Separator::maxSegment() const {
    return impl_->bag->maxAllowedSegment();
}
std::string Separator::deviceName() const {
    return deviceDescription(impl_->device);
}
bool Separator::onGpu() const {
    return impl_->device.is_cuda();
}
int64_t Separator::parameters() const {
    return impl_->parameters;
}

void MixStatistics::add(const float* planar, int channels, int64_t frames) {
    for (int64_t i = 0; i < frames; ++i) {
        double mono = 0;
        for (int c = 0; c < channels; ++c)
            mono += planar[c * frames + i];
        mono /= channels;
        ++frames_;
        const double delta = mono - mean_;
        mean_ += delta / static_cast<double>(frames_);
        m2_ += delta * (mono - mean_);
    }
}

float MixStatistics::mean() const {
    return static_cast<float>(mean_);
}

float MixStatistics::deviation() const {
    return frames_ > 1 ? static_cast<float>(std::sqrt(m2_ / static_cast<double>(frames_ - 1)))
                       : 0.0f;
}

void Separator::separate(const MixStatistics& stats, const MixRead& read, const StemWrite& write,
                         const SeparateOptions& options, const ProgressCallback& progress,
                         const CancelToken* cancel) const {
    if (stats.frames() < 2) throw Error("the audio is too short to separate");
    // demucs' normalisation, by the whole song's statistics, in float as the official code.
    const at::Tensor mean = at::scalar_tensor(stats.mean(), at::kFloat);
    const at::Tensor scale = at::scalar_tensor(stats.deviation(), at::kFloat) + 1e-8;
    const int64_t C = channels();
    std::vector<float> block;
    applyBagStreamed(
        *impl_->bag, stats.frames(),
        [&](int64_t max) {
            block.resize(static_cast<size_t>(C * max));
            const int64_t n = read(block.data(), max);
            if (n < 1 || n > max) throw Error("the song ended before its length");
            at::Tensor t = at::from_blob(block.data(), {1, C, n}, at::kFloat);
            return (t - mean) / scale;
        },
        [&](const at::Tensor& estimates) {
            const at::Tensor out = (estimates.squeeze(0) * scale + mean).contiguous();
            write(out.data_ptr<float>(), out.size(-1));
        },
        options, progress, cancel);
}

MixRead planarReader(const float* mix, int channels, int64_t frames) {
    auto read = std::make_shared<int64_t>(0);
    return [=](float* planar, int64_t max) {
        const int64_t n = std::min(max, frames - *read);
        for (int c = 0; c < channels; ++c)
            std::copy_n(mix + c * frames + *read, n, planar + c * n);
        *read += n;
        return n;
    };
}

StemWrite planarWriter(std::vector<std::vector<float>>& stems, int channels, int64_t frames) {
    auto written = std::make_shared<int64_t>(0);
    return [&stems, channels, frames, written](const float* out, int64_t n) {
        for (size_t s = 0; s < stems.size(); ++s)
            for (int c = 0; c < channels; ++c)
                std::copy_n(out + (int64_t(s) * channels + c) * n, n,
                            stems[s].data() + c * frames + *written);
        *written += n;
    };
}

std::vector<std::vector<float>> Separator::separate(const float* mix, int64_t frames,
                                                    const SeparateOptions& options,
                                                    const ProgressCallback& progress,
                                                    const CancelToken* cancel) const {
    if (frames <= 0) throw Error("the mix is empty");
    const int C = channels();
    MixStatistics stats;
    stats.add(mix, C, frames);
    std::vector<std::vector<float>> stems(sources().size(),
                                          std::vector<float>(static_cast<size_t>(C * frames)));
    separate(stats, planarReader(mix, C, frames), planarWriter(stems, C, frames), options, progress,
             cancel);
    return stems;
}

std::vector<std::string> randomModelConfigs() {
    return officialConfigNames();
}

std::size_t peakTensorBytes() {
    return largeBlockStats().peak;
}

}  // namespace msplit::engine
