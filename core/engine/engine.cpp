#include "core/engine/engine.h"

#include <cstring>

#include "core/engine/allocator.h"
#include "core/engine/apply.h"
#include "core/engine/device.h"
#include "core/engine/model_configs.h"
#include "core/engine/model_loader.h"

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
    impl->device = parseDevice(spec.device);
    impl->bag = loadBag(spec);
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

std::vector<std::vector<float>> Separator::separate(const float* mix, int64_t frames,
                                                    const SeparateOptions& options,
                                                    const ProgressCallback& progress,
                                                    const CancelToken* cancel) const {
    if (frames <= 0) throw Error("the mix is empty");
    const at::Tensor wav = at::from_blob(const_cast<float*>(mix), {channels(), frames}, at::kFloat);
    at::Tensor out = engine::separate(*impl_->bag, wav, options, progress, cancel)
                         .to(at::kCPU, at::kFloat)
                         .contiguous();
    std::vector<std::vector<float>> stems;
    const auto per = static_cast<size_t>(out.numel() / out.size(0));
    for (int64_t s = 0; s < out.size(0); ++s) {
        const float* p = out[s].data_ptr<float>();
        stems.emplace_back(p, p + per);
    }
    return stems;
}

std::vector<std::string> randomModelConfigs() {
    return officialConfigNames();
}

std::size_t peakTensorBytes() {
    return largeBlockStats().peak;
}

}  // namespace msplit::engine
