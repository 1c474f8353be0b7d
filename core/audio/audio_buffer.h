#pragma once
// Decoded audio as the engine wants it: float32, planar (channel-major), channels × frames.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace msplit {

struct AudioBuffer {
    int sampleRate = 44100;
    int channels = 2;
    std::vector<float> samples;  // channel 0's frames, then channel 1's, ...

    int64_t frames() const {
        return channels ? static_cast<int64_t>(samples.size()) / channels : 0;
    }
    float* channel(int c) {
        return samples.data() + static_cast<size_t>(c) * static_cast<size_t>(frames());
    }
    const float* channel(int c) const {
        return samples.data() + static_cast<size_t>(c) * static_cast<size_t>(frames());
    }
    double seconds() const { return sampleRate ? static_cast<double>(frames()) / sampleRate : 0.0; }
    bool allFinite() const {
        return std::all_of(samples.begin(), samples.end(),
                           [](float x) { return std::isfinite(x); });
    }
};

struct AudioInfo {
    std::string container;  // FFmpeg's name of the format, e.g. "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
    std::string codec;      // e.g. "mp3", "flac", "pcm_f32le"
    int sampleRate = 0;
    int channels = 0;
    double durationSeconds = 0;
    std::map<std::string, std::string> tags;  // lower-case keys: title, artist, album, ...
};

}  // namespace msplit
