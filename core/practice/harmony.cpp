#include "core/practice/harmony.h"

#include <aubio/aubio.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace msplit {
namespace {

// 16384-point spectra: 2.7 Hz apart at 44.1 kHz, enough to part the semitones of a bass line.
constexpr uint_t kWindow = 16384, kHop = 4096;
constexpr double kLowHz = 50, kHighHz = 5000;

std::array<int, 4> intervals(ChordQuality q) {
    switch (q) {
        case ChordQuality::Major:
            return {0, 4, 7, -1};
        case ChordQuality::Minor:
            return {0, 3, 7, -1};
        case ChordQuality::Dominant7:
            return {0, 4, 7, 10};
        case ChordQuality::Major7:
            return {0, 4, 7, 11};
        case ChordQuality::Minor7:
            return {0, 3, 7, 10};
        case ChordQuality::None:
            break;
    }
    return {-1, -1, -1, -1};
}

constexpr ChordQuality kQualities[] = {ChordQuality::Major, ChordQuality::Minor,
                                       ChordQuality::Dominant7, ChordQuality::Major7,
                                       ChordQuality::Minor7};

// A chord's expected chroma: each note with its 2nd, 3rd and 4th harmonics (the 3rd sounds a
// fifth above), decaying by 0.6 per harmonic, as most pitched instruments roughly do.
std::array<double, 12> chordTemplate(const Chord& c) {
    std::array<double, 12> t{};
    for (int i : intervals(c.quality)) {
        if (i < 0) continue;
        const int note = (c.root + i) % 12;
        t[size_t(note)] += 1.0 + 0.6 + 0.216;  // fundamental, octave, double octave
        t[size_t((note + 7) % 12)] += 0.36;    // the twelfth
    }
    const double norm = std::sqrt(std::inner_product(t.begin(), t.end(), t.begin(), 0.0));
    for (double& x : t)
        x /= norm;
    return t;
}

double dot(const std::array<double, 12>& t, const Chroma& c) {
    double s = 0;
    for (size_t i = 0; i < 12; ++i)
        s += t[i] * double(c.bins[i]);
    return s;
}

double correlation(const std::array<double, 12>& a, const std::array<double, 12>& b) {
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / 12;
    const double mb = std::accumulate(b.begin(), b.end(), 0.0) / 12;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < 12; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

}  // namespace

std::string pitchName(int pc) {
    static const char* names[] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
    return pc >= 0 && pc < 12 ? names[pc] : "?";
}

std::string Chord::name() const {
    if (quality == ChordQuality::None || root < 0) return "N";
    static const char* suffix[] = {"", "m", "7", "maj7", "m7"};
    return pitchName(root) + suffix[int(quality)];
}

std::string Key::name() const {
    if (tonic < 0) return "none";
    return pitchName(tonic) + (minor ? " minor" : " major");
}

struct ChromaTracker::Impl {
    aubio_pvoc_t* pvoc = nullptr;
    fvec_t* in = nullptr;
    cvec_t* spectrum = nullptr;
    uint_t filled = 0;
    int rate = 44100;
    ~Impl() {
        if (pvoc) del_aubio_pvoc(pvoc);
        if (in) del_fvec(in);
        if (spectrum) del_cvec(spectrum);
    }
    Chroma fold() const {
        // Spectral peaks only (a peak's skirt would leak into the neighbouring semitones),
        // placed by parabolic interpolation, energy summed per pitch class.
        Chroma c;
        std::array<double, 12> sum{};
        const smpl_t* m = spectrum->norm;
        const uint_t n = spectrum->length;
        const double binHz = double(rate) / kWindow;
        double energy = 0;
        for (uint_t k = 1; k + 1 < n; ++k) {
            const double hz = k * binHz;
            if (hz < kLowHz || hz > kHighHz) continue;
            energy += double(m[k]) * m[k];
            if (!(m[k] > m[k - 1] && m[k] >= m[k + 1])) continue;
            const double a = std::log(m[k - 1] + 1e-12), b = std::log(m[k] + 1e-12),
                         g = std::log(m[k + 1] + 1e-12);
            const double denom = a - 2 * b + g;
            const double offset = denom != 0 ? 0.5 * (a - g) / denom : 0;
            const double f = (k + offset) * binHz;
            const int midi = int(std::lround(69 + 12 * std::log2(f / 440.0)));
            sum[size_t(((midi % 12) + 12) % 12)] += double(m[k]) * m[k];
        }
        // Square-root compression: a loud bass note should not hide the rest of the chord.
        double norm = 0;
        for (double& x : sum)
            x = std::sqrt(x), norm += x * x;
        norm = std::sqrt(norm);
        for (size_t i = 0; i < 12; ++i)
            c.bins[i] = norm > 0 ? float(sum[i] / norm) : 0.0f;
        c.energy = float(energy);
        return c;
    }
};

ChromaTracker::ChromaTracker(int sampleRate) : impl_(std::make_unique<Impl>()) {
    impl_->rate = sampleRate;
    impl_->pvoc = new_aubio_pvoc(kWindow, kHop);
    impl_->in = new_fvec(kHop);
    impl_->spectrum = new_cvec(kWindow);
    if (!impl_->pvoc || !impl_->in || !impl_->spectrum || sampleRate <= 0)
        throw Error(ErrorKind::InvalidInput, std::to_string(sampleRate),
                    "the chord finder cannot run at this sample rate");
}

ChromaTracker::~ChromaTracker() = default;

double ChromaTracker::hopSeconds() const {
    return double(kHop) / impl_->rate;
}

// A frame is output once its last hop is in: its window is centred (window - hop) / 2 before
// the end of that hop, so frame k spans [k hop - (window - hop) / 2, + hop).
double ChromaTracker::offsetSeconds() const {
    return -double(kWindow - kHop) / 2 / impl_->rate;
}

void ChromaTracker::feed(const float* mono, int64_t frames) {
    Impl& d = *impl_;
    for (int64_t i = 0; i < frames; ++i) {
        d.in->data[d.filled++] = mono[i];
        if (d.filled == kHop) {
            aubio_pvoc_do(d.pvoc, d.in, d.spectrum);
            frames_.push_back(d.fold());
            d.filled = 0;
        }
    }
}

Key estimateKey(const std::vector<Chroma>& frames) {
    // Krumhansl and Kessler's probe-tone ratings for major and minor keys on C.
    static constexpr std::array<double, 12> major{6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                                  2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
    static constexpr std::array<double, 12> minor{6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                                  2.54, 4.75, 3.98, 2.69, 3.34, 3.17};
    std::array<double, 12> total{};
    for (const Chroma& c : frames)
        for (size_t i = 0; i < 12; ++i)
            total[i] += c.bins[i];
    Key key;
    if (std::accumulate(total.begin(), total.end(), 0.0) <= 0) return key;
    double best = -2;
    for (int tonic = 0; tonic < 12; ++tonic)
        for (int m = 0; m < 2; ++m) {
            std::array<double, 12> rotated{};
            for (size_t i = 0; i < 12; ++i)  // the profile moved up to `tonic`
                rotated[(i + size_t(tonic)) % 12] = (m ? minor : major)[i];
            const double r = correlation(total, rotated);
            if (r > best) best = r, key.tonic = tonic, key.minor = m == 1;
        }
    key.confidence = std::clamp(best, 0.0, 1.0);
    return key;
}

std::vector<ChordSpan> estimateChords(const std::vector<Chroma>& frames, double hopSeconds,
                                      double offsetSeconds) {
    std::vector<ChordSpan> spans;
    if (frames.empty()) return spans;
    std::vector<Chord> chords;
    std::vector<std::array<double, 12>> templates;
    for (int root = 0; root < 12; ++root)
        for (ChordQuality q : kQualities) {
            chords.push_back({root, q});
            templates.push_back(chordTemplate(chords.back()));
        }
    chords.push_back({});  // N: silence
    const size_t S = chords.size(), T = frames.size();
    // Silence: far below the song's typical loudness.
    std::vector<float> energies;
    for (const Chroma& c : frames)
        energies.push_back(c.energy);
    std::nth_element(energies.begin(), energies.begin() + long(T / 2), energies.end());
    const double quiet = 1e-3 * energies[T / 2] + 1e-12;
    // Viterbi: score = sum of template matches, less a fixed charge per change of chord.
    constexpr double kChange = 0.25;
    std::vector<double> score(S, 0.0), next(S);
    std::vector<std::vector<uint16_t>> from(T, std::vector<uint16_t>(S));
    auto match = [&](size_t t, size_t s) {
        const bool silent = frames[t].energy < quiet;
        if (s == S - 1) return silent ? 1.0 : 0.2;
        return silent ? 0.0 : dot(templates[s], frames[t]);
    };
    for (size_t s = 0; s < S; ++s)
        score[s] = match(0, s);
    for (size_t t = 1; t < T; ++t) {
        const size_t best = size_t(std::max_element(score.begin(), score.end()) - score.begin());
        for (size_t s = 0; s < S; ++s) {
            const bool change = score[best] - kChange > score[s];
            from[t][s] = uint16_t(change ? best : s);
            next[s] = (change ? score[best] - kChange : score[s]) + match(t, s);
        }
        score.swap(next);
    }
    std::vector<size_t> path(T);
    path[T - 1] = size_t(std::max_element(score.begin(), score.end()) - score.begin());
    for (size_t t = T - 1; t > 0; --t)
        path[t - 1] = from[t][path[t]];
    for (size_t t = 0; t < T; ++t) {
        const double at = std::max(0.0, double(t) * hopSeconds + offsetSeconds);
        if (spans.empty() || !(spans.back().chord == chords[path[t]]))
            spans.push_back({at, at, chords[path[t]]});
        spans.back().end = at + hopSeconds;
    }
    return spans;
}

}  // namespace msplit
