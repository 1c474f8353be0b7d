#include "core/player/click_lane.h"

#include <algorithm>
#include <cmath>

namespace msplit {
namespace {

std::vector<float> makeClick(double hz) {
    constexpr int kRate = 44100, kLength = kRate / 40;  // 25 ms
    std::vector<float> c(kLength);
    for (int i = 0; i < kLength; ++i)
        c[size_t(i)] = float(0.5 * std::exp(-double(i) / (0.004 * kRate)) *
                             std::sin(2 * 3.14159265358979 * hz * i / kRate));
    return c;
}

class ClickLane : public LaneSource {
public:
    ClickLane(std::shared_ptr<const ClickBeats> beats, int64_t frames)
        : beats_(std::move(beats)), frames_(frames) {}
    int64_t frames() const override { return frames_; }
    void seek(int64_t frame) override { pos_ = frame; }
    int64_t read(float* stereo, int64_t max) override {
        const int64_t n = std::clamp<int64_t>(frames_ - pos_, 0, max);
        std::fill(stereo, stereo + 2 * n, 0.0f);
        const auto grid = beats_->get();
        const int64_t length = int64_t(clickSound(false).size());
        const auto& f = grid->frames;
        // Every click that sounds in [pos, pos + n): those that began up to a click's length ago.
        for (auto it = std::lower_bound(f.begin(), f.end(), pos_ - length + 1);
             it != f.end() && *it < pos_ + n; ++it) {
            const auto& click = clickSound((it - f.begin()) % grid->beatsPerBar == 0);
            for (int64_t i = std::max(*it, pos_); i < std::min(*it + length, pos_ + n); ++i) {
                stereo[2 * (i - pos_)] += click[size_t(i - *it)];
                stereo[2 * (i - pos_) + 1] += click[size_t(i - *it)];
            }
        }
        pos_ += n;
        return n;
    }

private:
    std::shared_ptr<const ClickBeats> beats_;
    int64_t frames_, pos_ = 0;
};

}  // namespace

void ClickBeats::set(std::vector<int64_t> frames, int beatsPerBar) {
    std::sort(frames.begin(), frames.end());
    auto grid = std::make_shared<Grid>();
    grid->frames = std::move(frames);
    grid->beatsPerBar = std::max(1, beatsPerBar);
    std::lock_guard<std::mutex> lock(mutex_);
    grid_ = std::move(grid);
}

std::shared_ptr<const ClickBeats::Grid> ClickBeats::get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return grid_;
}

std::unique_ptr<LaneSource> clickLane(std::shared_ptr<const ClickBeats> beats, int64_t frames) {
    return std::make_unique<ClickLane>(std::move(beats), frames);
}

const std::vector<float>& clickSound(bool accent) {
    static const std::vector<float> high = makeClick(1600), low = makeClick(1000);
    return accent ? high : low;
}

}  // namespace msplit
