#pragma once
// Min/max peaks of a signal at several resolutions, so a waveform draws quickly and exactly at any
// zoom: from the whole song down to single samples (then the samples themselves are used).
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace msplit {

class PeakCache {
public:
    static constexpr int kBase = 64;   // frames per peak at the finest level
    static constexpr int kFactor = 4;  // each level groups this many peaks of the one below
    static constexpr int kLevels = 6;  // 64 .. 65536 frames per peak

    // Builds from a mono signal (kept, shared). `progress` returns false to stop early.
    void build(std::shared_ptr<const std::vector<float>> samples,
               const std::function<bool(double)>& progress = {});
    int64_t frames() const { return samples_ ? static_cast<int64_t>(samples_->size()) : 0; }
    bool ready() const { return ready_; }
    // Lowest and highest sample in [from, to), from the coarsest level that is still exact.
    std::pair<float, float> range(int64_t from, int64_t to) const;
    float sample(int64_t i) const { return (*samples_)[static_cast<size_t>(i)]; }

private:
    std::shared_ptr<const std::vector<float>> samples_;
    std::vector<std::vector<float>> min_, max_;
    bool ready_ = false;
};

}  // namespace msplit
