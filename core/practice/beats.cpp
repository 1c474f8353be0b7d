#include "core/practice/beats.h"

#include <aubio/aubio.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace msplit {
namespace {
constexpr uint_t kWindow = 2048, kHop = 512;  // 11.6 ms steps at 44.1 kHz
}

struct BeatTracker::Impl {
    aubio_tempo_t* tempo = nullptr;
    aubio_onset_t* onset = nullptr;
    fvec_t* in = nullptr;
    fvec_t* hit = nullptr;
    fvec_t* out = nullptr;
    uint_t filled = 0;
    int rate = 44100;
    std::vector<double> beats, onsets;

    ~Impl() {
        if (tempo) del_aubio_tempo(tempo);
        if (onset) del_aubio_onset(onset);
        if (hit) del_fvec(hit);
        if (in) del_fvec(in);
        if (out) del_fvec(out);
    }
    void step() {
        aubio_tempo_do(tempo, in, out);
        if (out->data[0] != 0) beats.push_back(double(aubio_tempo_get_last_s(tempo)));
        aubio_onset_do(onset, in, hit);
        if (hit->data[0] != 0) onsets.push_back(double(aubio_onset_get_last_s(onset)));
        filled = 0;
    }
};

BeatTracker::BeatTracker(int sampleRate) : impl_(std::make_unique<Impl>()) {
    impl_->rate = sampleRate;
    impl_->tempo = new_aubio_tempo("default", kWindow, kHop, uint_t(sampleRate));
    impl_->in = new_fvec(kHop);
    impl_->out = new_fvec(1);
    impl_->onset = new_aubio_onset("default", kWindow, kHop, uint_t(sampleRate));
    impl_->hit = new_fvec(1);
    if (impl_->tempo) aubio_tempo_set_silence(impl_->tempo, -200);
    if (impl_->onset) aubio_onset_set_silence(impl_->onset, -200);
    if (!impl_->tempo || !impl_->in || !impl_->out || !impl_->onset || !impl_->hit)
        throw Error(ErrorKind::InvalidInput, std::to_string(sampleRate),
                    "the beat tracker cannot run at this sample rate");
}

BeatTracker::~BeatTracker() = default;

void BeatTracker::feed(const float* mono, int64_t frames) {
    Impl& d = *impl_;
    for (int64_t i = 0; i < frames; ++i) {
        // aubio gives no beat in a silent hop, and digital silence between a click track's
        // clicks is silent: a dither far below hearing (-160 dB) keeps the grid going.
        const float dither = (d.filled & 1) ? 1e-8f : -1e-8f;
        d.in->data[d.filled++] = mono[i] + dither;
        if (d.filled == kHop) d.step();
    }
}

BeatGrid BeatTracker::finish() {
    Impl& d = *impl_;
    if (d.filled > 0) {  // the last partial hop, padded with silence
        std::fill(d.in->data + d.filled, d.in->data + kHop, 0.0f);
        d.step();
    }
    BeatGrid grid;
    grid.beats = d.beats;
    std::sort(grid.beats.begin(), grid.beats.end());
    // The tracker predicts where beats fall; the attack it heard nearest (within a quarter of a
    // beat: nearer than any off-beat eighth) is where a musician hears the beat.
    const double bpm = tempoOf(grid.beats);
    const double reach = bpm > 0 ? 15.0 / bpm : 0.07;
    for (double& b : grid.beats) {
        auto it = std::lower_bound(d.onsets.begin(), d.onsets.end(), b);
        double nearest = 1e9;
        if (it != d.onsets.end()) nearest = *it;
        if (it != d.onsets.begin() && b - *(it - 1) < nearest - b) nearest = *(it - 1);
        if (std::abs(nearest - b) <= reach) b = nearest;
    }
    grid.beats.erase(
        std::remove_if(grid.beats.begin(), grid.beats.end(), [](double t) { return t < 0; }),
        grid.beats.end());
    grid.beats.erase(std::unique(grid.beats.begin(), grid.beats.end()), grid.beats.end());
    grid.bpm = tempoOf(grid.beats);
    return grid;
}

double tempoOf(const std::vector<double>& beats) {
    if (beats.size() < 4) return 0;
    std::vector<double> gaps;
    for (size_t i = 1; i < beats.size(); ++i)
        gaps.push_back(beats[i] - beats[i - 1]);
    std::vector<double> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
    const double median = sorted[sorted.size() / 2];
    if (median <= 0) return 0;
    // The longest run of steady beats; its slope (seconds per beat) by least squares.
    size_t bestStart = 0, bestLength = 0;
    for (size_t i = 0; i < gaps.size();) {
        size_t j = i;
        while (j < gaps.size() && std::abs(gaps[j] - median) <= 0.15 * median)
            ++j;
        if (j - i > bestLength) bestStart = i, bestLength = j - i;
        i = j + 1;
    }
    if (bestLength < 3) return 60.0 / median;
    const size_t n = bestLength + 1;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t k = 0; k < n; ++k) {
        const double x = double(k), y = beats[bestStart + k];
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double slope = (double(n) * sxy - sx * sy) / (double(n) * sxx - sx * sx);
    return slope > 0 ? 60.0 / slope : 0;
}

double BeatGrid::snap(double seconds) const {
    if (beats.empty()) return seconds;
    auto it = std::lower_bound(beats.begin(), beats.end(), seconds);
    if (it == beats.end()) return beats.back();
    if (it == beats.begin()) return *it;
    return (*it - seconds) < (seconds - *(it - 1)) ? *it : *(it - 1);
}

}  // namespace msplit
