#pragma once
// Min/max peaks of a lane at several resolutions, so a waveform draws quickly at any zoom down to
// kBase frames per peak (closer, the samples themselves are read). Stereo is drawn as the
// channels' mean. Peaks are appended as the audio comes (while a separation writes its stems, or
// while a file is read) and can be drawn front to back meanwhile; they are saved beside the stems
// so a song opens without reading its audio again.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/audio/audio_buffer.h"

namespace msplit {

class PeakCache {
public:
    static constexpr int kBase = 64;   // frames per peak at the finest level
    static constexpr int kFactor = 4;  // each level groups this many peaks of the one below
    static constexpr int kLevels = 6;  // 64 .. 65536 frames per peak

    // Room for `frames` frames (the expected length; more is not kept).
    explicit PeakCache(int64_t frames = 0);
    PeakCache(const PeakCache&) = delete;
    PeakCache& operator=(const PeakCache&) = delete;

    // The next `n` frames, channel after channel. One writer thread; readers may draw meanwhile.
    void append(const float* planar, int channels, int64_t n);
    // The end of the audio: the length becomes what was appended.
    void finish();

    // The length: what was appended once finished, else the expected length.
    int64_t frames() const { return finished() ? builtFrames() : capacity_; }
    // Frames from the start whose peaks can be drawn.
    int64_t builtFrames() const { return built_.load(std::memory_order_acquire); }
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    // Lowest and highest value in the kBase-aligned blocks that cover [from, to), as far as built.
    std::pair<float, float> range(int64_t from, int64_t to) const;

    // A finished cache to a file (atomically) and back. save throws Error (Io); load returns
    // false for a missing, damaged or foreign file (it is then rebuilt from the audio).
    void save(const std::string& path) const;
    bool load(const std::string& path);

private:
    void grow(float lo, float hi);  // one more finest peak, into every level
    int64_t capacity_;
    std::vector<std::vector<float>> min_, max_;  // sized up front: readers never see a move
    int64_t blocks_ = 0;                         // finest peaks made (the writer's count)
    int64_t partial_ = 0;                        // frames in the block being made
    float lo_, hi_;                              // its peaks so far
    std::atomic<int64_t> built_{0};
    std::atomic<bool> finished_{false};
};

// The finished peaks of audio in memory.
std::shared_ptr<PeakCache> peaksOf(const AudioBuffer& audio);

}  // namespace msplit
