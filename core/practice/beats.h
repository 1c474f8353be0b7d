#pragma once
// The beat grid of a song: beat times and tempo found with aubio's beat tracker, fed block by
// block so a song of any length streams through it.
#include <cstdint>
#include <memory>
#include <vector>

namespace msplit {

struct BeatGrid {
    double bpm = 0;             // 0: no steady beat found
    std::vector<double> beats;  // seconds, ascending
    // The beat nearest to `seconds` (itself when there are no beats).
    double snap(double seconds) const;
};

class BeatTracker {
public:
    explicit BeatTracker(int sampleRate);
    ~BeatTracker();
    BeatTracker(const BeatTracker&) = delete;
    BeatTracker& operator=(const BeatTracker&) = delete;

    void feed(const float* mono, int64_t frames);
    BeatGrid finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The tempo of evenly spaced beats: a least-squares line through the beats' times, over the
// beats whose spacing is within 15 % of the median (so a missed or doubled beat does not skew it).
double tempoOf(const std::vector<double>& beats);

}  // namespace msplit
