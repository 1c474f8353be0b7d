#pragma once
// What the benchmarks play and measure: a generated music-like signal, and the process's peak
// memory.
#include <sys/resource.h>

#include <cmath>
#include <cstdint>

namespace msplit::cli {

inline double peakMemoryMB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// A music-like test signal: a few tones, a beat and some noise, different in each channel.
// Frames [start, start + n) into `planar` (channel after channel); the same frames whatever the
// blocks (the noise hashes the frame index), so the statistics pass and the separation agree.
inline void testSignal(int64_t start, int64_t n, int samplerate, int channels, float* planar) {
    for (int c = 0; c < channels; ++c)
        for (int64_t k = 0; k < n; ++k) {
            const int64_t i = start + k;
            const double t = double(i) / samplerate;
            const double tones = 0.2 * std::sin(2 * M_PI * 110 * t) +
                                 0.1 * std::sin(2 * M_PI * 440 * t) +
                                 0.05 * std::sin(2 * M_PI * 1320 * t);
            const double beat =
                0.3 * std::exp(-20 * std::fmod(t, 0.5)) * std::sin(2 * M_PI * 60 * t);
            uint64_t h = uint64_t(i) * 2654435761u + uint64_t(c) * 40503u + 7;
            h ^= h >> 33;
            h *= 0xff51afd7ed558ccdULL;
            h ^= h >> 33;
            const double noise = (double(h % 2001) / 1000.0 - 1.0) * 0.035;  // uniform, ~0.02 rms
            planar[c * n + k] = static_cast<float>((c ? 0.8 : 1.0) * tones + beat + noise);
        }
}

}  // namespace msplit::cli
