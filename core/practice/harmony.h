#pragma once
// Key and chords from audio: chroma (the energy of each of the 12 pitch classes) every ~93 ms,
// matched against chord templates that include the notes' first harmonics, smoothed by a Viterbi
// path that charges each change of chord; the key by correlating the song's chroma with the
// Krumhansl-Kessler key profiles. No packaged library on Debian does this, so it is small and
// documented here; its accuracy on synthetic songs is in the README.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace msplit {

struct Chroma {
    std::array<float, 12> bins{};  // C, C#, ..., B; unit length (zero when silent)
    float energy = 0;              // of the frame, for telling silence apart
};

// Short-time spectra (aubio's phase vocoder) folded into chroma, fed block by block.
class ChromaTracker {
public:
    explicit ChromaTracker(int sampleRate);
    ~ChromaTracker();
    ChromaTracker(const ChromaTracker&) = delete;
    ChromaTracker& operator=(const ChromaTracker&) = delete;

    void feed(const float* mono, int64_t frames);
    const std::vector<Chroma>& frames() const { return frames_; }
    double hopSeconds() const;     // between frames
    double offsetSeconds() const;  // frame k covers k x hopSeconds() + offsetSeconds() on

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::vector<Chroma> frames_;
};

enum class ChordQuality { Major, Minor, Dominant7, Major7, Minor7, None };

struct Chord {
    int root = -1;  // pitch class, 0 = C; -1 with None
    ChordQuality quality = ChordQuality::None;
    std::string name() const;  // "C", "F#m", "G7", "Ebmaj7", "Am7", "N"
    bool operator==(const Chord& o) const { return root == o.root && quality == o.quality; }
};

struct ChordSpan {
    double start = 0, end = 0;  // seconds
    Chord chord;
};

struct Key {
    int tonic = -1;  // pitch class; -1: none found (silence)
    bool minor = false;
    double confidence = 0;     // the profile's correlation with the song, 0..1
    std::string name() const;  // "A minor", "Eb major"
};

Key estimateKey(const std::vector<Chroma>& frames);
std::vector<ChordSpan> estimateChords(const std::vector<Chroma>& frames, double hopSeconds,
                                      double offsetSeconds = 0);

// Pitch class names with the usual spelling (sharps and flats as keys are written).
std::string pitchName(int pitchClass);

}  // namespace msplit
