#pragma once
// A metronome on a song's beat grid: a click on every beat, a higher one on the first of each bar
// (counted from the first beat found), played as a lane of the mixer so that it follows seeks,
// loops and tempo exactly as the stems do, with its own gain, mute and solo.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/player/lane_source.h"

namespace msplit {

// The beats a click lane plays; given at any time (the analysis comes after a song opens).
class ClickBeats {
public:
    void set(std::vector<int64_t> frames, int beatsPerBar = 4);
    struct Grid {
        std::vector<int64_t> frames;  // ascending
        int beatsPerBar = 4;
    };
    std::shared_ptr<const Grid> get() const;

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Grid> grid_ = std::make_shared<Grid>();
};

// `frames`: the song's length.
std::unique_ptr<LaneSource> clickLane(std::shared_ptr<const ClickBeats> beats, int64_t frames);

// One click as the lane plays it (for tests): 25 ms of a decaying tone, 1.6 kHz on a bar's first
// beat, 1 kHz on the others.
const std::vector<float>& clickSound(bool accent);

}  // namespace msplit
