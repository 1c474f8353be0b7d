#pragma once
// Min/max peaks of a lane at several resolutions, so a waveform draws quickly and exactly at any
// zoom: from the whole song down to single samples (then the samples themselves are used). The
// lane's audio is shared, not copied (a 60-minute stem is 1.3 GB), and drawn as its channels'
// mean. Peaks are built off the UI thread and become usable progressively, front to back.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/audio/audio_buffer.h"

namespace msplit {

class PeakCache {
public:
    static constexpr int kBase = 64;   // frames per peak at the finest level
    static constexpr int kFactor = 4;  // each level groups this many peaks of the one below
    static constexpr int kLevels = 6;  // 64 .. 65536 frames per peak
    static constexpr int64_t kChunkBlocks = 16384;  // finest peaks published at a time (~1M frames)

    // The audio to draw; set on the thread that draws, before build().
    void setSource(std::shared_ptr<const AudioBuffer> audio);
    // Builds the peaks (any thread). `progress` (fraction done, after each chunk) returns false
    // to stop early.
    void build(const std::function<bool(double)>& progress = {});
    // setSource and build, for callers on one thread.
    void build(std::shared_ptr<const AudioBuffer> audio,
               const std::function<bool(double)>& progress = {});

    int64_t frames() const { return audio_ ? audio_->frames() : 0; }
    // Frames from the start whose peaks exist; range() sees nothing beyond until ready().
    int64_t builtFrames() const { return built_.load(std::memory_order_acquire); }
    bool ready() const { return ready_.load(std::memory_order_acquire); }
    // Lowest and highest sample in [from, to), from the coarsest level that is still exact.
    std::pair<float, float> range(int64_t from, int64_t to) const;
    float sample(int64_t i) const {
        const auto k = static_cast<size_t>(i);
        return audio_->channels > 1 ? 0.5f * (audio_->channel(0)[k] + audio_->channel(1)[k])
                                    : audio_->channel(0)[k];
    }

private:
    std::shared_ptr<const AudioBuffer> audio_;
    std::vector<std::vector<float>> min_, max_;  // [0] sized before building starts
    std::atomic<int64_t> built_{0};
    std::atomic<bool> ready_{false};
};

}  // namespace msplit
