#pragma once
// Audio parked on disk as raw float32 while it arrives, for writes that need all of it first
// (the demucs CLI's rescale by the peak, the library's common gain), and for listening to a
// separation while it runs: memory stays flat for any length. The file has no name (unlinked at
// once), so nothing is left behind, even after a crash.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace msplit {

class FloatSpool {
public:
    // A nameless file in `dir` (best beside the output: same disk). Throws Error (Io).
    FloatSpool(const std::string& dir, int channels);
    ~FloatSpool();
    FloatSpool(const FloatSpool&) = delete;
    FloatSpool& operator=(const FloatSpool&) = delete;

    // `frames` frames, channel after channel (one writer). Throws Error (Io: disk full...).
    void append(const float* planar, int64_t frames);
    int channels() const { return channels_; }
    // Frames appended so far; any thread may read them once this says they are there.
    int64_t frames() const { return frames_.load(std::memory_order_acquire); }
    float peak() const { return peak_; }  // the largest magnitude appended (the writer's thread)
    // Reads everything back, in order, in planar blocks.
    void replay(const std::function<void(const float* planar, int64_t frames)>& block) const;
    // Up to `count` frames from `frame` on, interleaved, into `out`; returns how many (fewer at
    // what is written so far). Any thread, concurrently with append. Throws Error (Io).
    int64_t readAt(int64_t frame, float* interleaved, int64_t count) const;

private:
    std::string dir_;
    int fd_ = -1;
    int channels_;
    std::atomic<int64_t> frames_{0};
    float peak_ = 0;
    std::vector<float> interleaved_;  // append's buffer
};

}  // namespace msplit
