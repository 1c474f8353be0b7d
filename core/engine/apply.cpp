#include "core/engine/apply.h"

#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <new>
#include <string>

#include "core/engine/error.h"
#include "core/engine/stream.h"

namespace msplit::engine {

// ---- Bag -------------------------------------------------------------------------------------

Bag::Bag(std::vector<std::shared_ptr<Model>> models, std::vector<std::vector<double>> weights,
         std::optional<Segment> segment)
    : models_(std::move(models)), weights_(std::move(weights)) {
    if (models_.empty()) throw Error("a bag needs at least one model");
    const Model& first = *models_.front();
    for (const auto& m : models_) {
        if (m->sources() != first.sources() || m->samplerate() != first.samplerate() ||
            m->audioChannels() != first.audioChannels())
            throw Error("the models of a bag must have the same sources, sample rate and channels");
        if (segment && (!m->isTransformer() || segment->seconds <= m->segment().seconds))
            m->setSegment(*segment);
    }
    const size_t nSources = first.sources().size();
    if (weights_.empty()) weights_.assign(models_.size(), std::vector<double>(nSources, 1.0));
    if (weights_.size() != models_.size()) throw Error("a bag needs one row of weights per model");
    for (const auto& row : weights_)
        if (row.size() != nSources) throw Error("a bag needs one weight per source in each row");
    for (size_t k = 0; k < nSources; ++k) {
        double total = 0;
        for (const auto& row : weights_)
            total += row[k];
        if (total == 0)
            throw Error("the bag's weights for source " + first.sources()[k] + " sum to zero");
    }
}

double Bag::maxAllowedSegment() const {
    double limit = std::numeric_limits<double>::infinity();
    for (const auto& m : models_)
        if (m->isTransformer()) limit = std::min(limit, m->segment().seconds);
    return limit;
}

// ---- applying ------------------------------------------------------------------------------

void checkApplyOptions(const Bag& bag, const ApplyOptions& options) {
    if (options.shifts < 0) throw Error("shifts must not be negative");
    if (options.overlap < 0 || options.overlap >= 1) throw Error("the overlap must be in [0, 1)");
    if (options.transitionPower < 1) throw Error("the transition power must be at least 1");
    if (options.segment && *options.segment > bag.maxAllowedSegment())
        throw Error(
            "cannot use a transformer model with a longer segment than it was trained for "
            "(maximum " +
            std::to_string(bag.maxAllowedSegment()) + " s)");
}

at::Tensor reportingFailures(const std::function<at::Tensor()>& f) {
    const char* memory =
        "not enough memory to separate this (shorter segments, one segment per batch or fewer "
        "jobs at once need less)";
    try {
        return f();
    } catch (const std::bad_alloc&) {
        throw Error(memory);
    } catch (const Error&) {
        throw;
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        if (what.find("can't allocate memory") != std::string::npos ||
            what.find("out of memory") != std::string::npos)
            throw Error(memory);
        throw Error("the separation failed in LibTorch: " + what.substr(0, what.find('\n')));
    }
}

at::Tensor applyBag(const Bag& bag, const at::Tensor& mix, const ApplyOptions& options,
                    const ProgressCallback& progress, const CancelToken* cancel) {
    if (mix.dim() != 3) throw Error("the mix must have shape (batch, channels, samples)");
    if (mix.size(1) != bag.audioChannels())
        throw Error("the model expects " + std::to_string(bag.audioChannels()) +
                    " channels, the mix has " + std::to_string(mix.size(1)));
    if (mix.size(-1) == 0) throw Error("the mix is empty");
    // The whole song is one stream: read from the tensor, written into the result.
    return reportingFailures([&] {
        const int64_t length = mix.size(-1);
        at::Tensor result;
        int64_t read = 0, written = 0;
        applyBagStreamed(
            bag, length,
            [&](int64_t max) {
                at::Tensor block = mix.slice(-1, read, read + max);
                read += block.size(-1);
                return block;
            },
            [&](const at::Tensor& estimates) {
                if (!result.defined()) {
                    // An ordinary tensor (the separation runs in inference mode): callers may
                    // change the result in place.
                    c10::InferenceMode ordinary(false);
                    result = at::empty({mix.size(0), estimates.size(1), mix.size(1), length},
                                       estimates.options());
                }
                result.slice(-1, written, written + estimates.size(-1)).copy_(estimates);
                written += estimates.size(-1);
            },
            options, progress, cancel);
        return result.to(mix.device());
    });
}

at::Tensor separate(const Bag& bag, const at::Tensor& mix, const ApplyOptions& options,
                    const ProgressCallback& progress, const CancelToken* cancel) {
    if (mix.dim() != 2) throw Error("the mix must have shape (channels, samples)");
    return reportingFailures([&] {
        at::Tensor ref = mix.mean(0);
        const at::Tensor mean = ref.mean();
        const at::Tensor scale = ref.std() + 1e-8;
        at::Tensor wav = (mix - mean) / scale;
        at::Tensor out = applyBag(bag, wav.unsqueeze(0), options, progress, cancel).squeeze(0);
        return out * scale + mean;
    });
}

}  // namespace msplit::engine
