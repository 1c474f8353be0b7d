#include "core/player/lane_source.h"

#include <algorithm>

namespace msplit {
namespace {

class FileLane : public LaneSource {
public:
    FileLane(const std::string& path, double scale, int64_t frames)
        : reader_(path, 44100, 2), scale_(float(scale)) {
        frames_ = frames > 0 ? frames : reader_.lengthEstimate();
    }
    int64_t frames() const override { return frames_; }
    void seek(int64_t frame) override { reader_.seek(frame); }
    int64_t read(float* stereo, int64_t max) override {
        planar_.resize(static_cast<size_t>(2 * max));
        const int64_t n = reader_.read(planar_.data(), max);
        for (int64_t i = 0; i < n; ++i) {
            stereo[2 * i] = planar_[size_t(i)] * scale_;
            stereo[2 * i + 1] = planar_[size_t(n + i)] * scale_;
        }
        return n;
    }

private:
    AudioReader reader_;
    float scale_;
    int64_t frames_ = 0;
    std::vector<float> planar_;
};

class SpoolLane : public LaneSource {
public:
    SpoolLane(std::shared_ptr<const FloatSpool> spool, int64_t frames)
        : spool_(std::move(spool)), frames_(frames) {}
    int64_t frames() const override { return frames_; }
    int64_t ready() const override { return std::min(spool_->frames(), frames_); }
    void seek(int64_t frame) override { pos_ = frame; }
    int64_t read(float* stereo, int64_t max) override {
        const int64_t n = spool_->readAt(pos_, stereo, std::min(max, ready() - pos_));
        pos_ += n;
        return n;
    }

private:
    std::shared_ptr<const FloatSpool> spool_;
    int64_t frames_;
    int64_t pos_ = 0;
};

}  // namespace

std::unique_ptr<LaneSource> fileLane(const std::string& path, double scale, int64_t frames) {
    return std::make_unique<FileLane>(path, scale, frames);
}

std::unique_ptr<LaneSource> spoolLane(std::shared_ptr<const FloatSpool> spool, int64_t frames) {
    return std::make_unique<SpoolLane>(std::move(spool), frames);
}

}  // namespace msplit
