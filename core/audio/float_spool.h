#pragma once
// Audio parked on disk as raw float32 while it arrives, for writes that need all of it first
// (the demucs CLI's rescale by the peak, the library's common gain): memory stays flat for any
// length. The file has no name (unlinked at once), so nothing is left behind, even after a crash.
#include <cstdint>
#include <functional>
#include <string>

namespace msplit {

class FloatSpool {
public:
    // A nameless file in `dir` (best beside the output: same disk). Throws Error (Io).
    FloatSpool(const std::string& dir, int channels);
    ~FloatSpool();
    FloatSpool(const FloatSpool&) = delete;
    FloatSpool& operator=(const FloatSpool&) = delete;

    // `frames` frames, channel after channel. Throws Error (Io: disk full...).
    void append(const float* planar, int64_t frames);
    int channels() const { return channels_; }
    int64_t frames() const { return frames_; }
    float peak() const { return peak_; }  // the largest magnitude appended
    // Reads everything back in the blocks it was appended in.
    void replay(const std::function<void(const float* planar, int64_t frames)>& block) const;

private:
    std::string dir_;
    int fd_ = -1;
    int channels_;
    int64_t frames_ = 0;
    float peak_ = 0;
};

}  // namespace msplit
