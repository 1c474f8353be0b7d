#pragma once
// One lane's audio as the player reads it: from any frame, block after block, off disk (a stem
// file through FFmpeg, or the spool a running separation writes). Only the mixer's reader thread
// calls seek and read; ready() may be asked from any thread.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/audio/decoder.h"
#include "core/audio/float_spool.h"

namespace msplit {

class LaneSource {
public:
    virtual ~LaneSource() = default;
    virtual int64_t frames() const = 0;  // the lane's length
    // Frames from the start that can be read now: less than frames() while a separation is still
    // writing them.
    virtual int64_t ready() const { return frames(); }
    virtual void seek(int64_t frame) = 0;
    // Up to `max` frames, interleaved stereo, from the position on; 0 at the end of what is ready.
    // Throws Error.
    virtual int64_t read(float* stereo, int64_t max) = 0;
};

// A file at 44.1 kHz stereo, multiplied by `scale` (the library's gain undone). `frames`: its
// length when known (0: the header's). Throws Error.
std::unique_ptr<LaneSource> fileLane(const std::string& path, double scale = 1.0,
                                     int64_t frames = 0);
// A stem a separation is writing: `frames` in all, readable as far as the spool has them.
std::unique_ptr<LaneSource> spoolLane(std::shared_ptr<const FloatSpool> spool, int64_t frames);

}  // namespace msplit
