#pragma once
// Applying models to a whole song (apply.py): bags with per-source weights, segments with
// overlap and triangular cross-fades, the random-shift trick, progress and cancellation.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/engine/model.h"

namespace msplit::engine {

// A bag of models (repo.py / apply.py BagOfModels): the estimate of each source is the weighted
// mean of the models' estimates.
class Bag {
public:
    // `weights`: one row per model, one weight per source (empty: all ones). `segment` overrides
    // the models' segment (transformer models only when it is shorter).
    Bag(std::vector<std::shared_ptr<Model>> models, std::vector<std::vector<double>> weights = {},
        std::optional<Segment> segment = std::nullopt);

    const std::vector<std::shared_ptr<Model>>& models() const { return models_; }
    const std::vector<std::vector<double>>& weights() const { return weights_; }
    const std::vector<std::string>& sources() const { return models_.front()->sources(); }
    int64_t samplerate() const { return models_.front()->samplerate(); }
    int64_t audioChannels() const { return models_.front()->audioChannels(); }
    // The longest segment every transformer model accepts (infinity when there is none).
    double maxAllowedSegment() const;

private:
    std::vector<std::shared_ptr<Model>> models_;
    std::vector<std::vector<double>> weights_;
};

// The facade's options under the name apply.cpp has always used.
using ApplyOptions = SeparateOptions;

// Throws Error for options the bag cannot be applied with.
void checkApplyOptions(const Bag& bag, const ApplyOptions& options);
// Runs `f`, turning exhausted memory (std::bad_alloc, LibTorch's or CUDA's) and LibTorch's other
// refusals into the engine's Error, with a sentence saying what helps.
at::Tensor reportingFailures(const std::function<at::Tensor()>& f);

// mix: (B, channels, T) on any device; returns (B, sources, channels, T) on the mix's device.
// Throws Cancelled when `cancel` is triggered (checked before every model forward).
at::Tensor applyBag(const Bag& bag, const at::Tensor& mix, const ApplyOptions& options,
                    const ProgressCallback& progress = {}, const CancelToken* cancel = nullptr);

// The demucs CLI's pipeline: normalise the (channels, T) mix by its mono sum's mean and std,
// apply the bag, undo the normalisation. Returns (sources, channels, T).
at::Tensor separate(const Bag& bag, const at::Tensor& mix, const ApplyOptions& options,
                    const ProgressCallback& progress = {}, const CancelToken* cancel = nullptr);

}  // namespace msplit::engine
