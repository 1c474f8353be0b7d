#pragma once
// Tempo and pitch of a signal, changed while it plays, with Rubber Band's real-time stretcher.
// The player stretches its mix once, after the stems are summed (so stems cannot drift apart),
// and `mix` stretches files with the same class, so both sound alike.
//
// Output frame k of a run (since construction or reset()) is source frame k x tempo: Rubber
// Band's start pad is fed and its start delay dropped here.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace RubberBand {
class RubberBandStretcher;
}

namespace msplit {

class Stretcher {
public:
    static constexpr double kMinTempo = 0.25, kMaxTempo = 2.0, kMaxSemitones = 12.0;
    // Throws Error (InvalidInput) naming the value out of range.
    static void check(double tempo, double semitones);

    // Writes up to `n` frames planar (channel after channel, `n` apart) and returns how many:
    // fewer than asked only at the end of the source.
    using Source = std::function<int64_t(float* planar, int64_t n)>;

    Stretcher(int sampleRate, int channels);
    ~Stretcher();
    Stretcher(const Stretcher&) = delete;
    Stretcher& operator=(const Stretcher&) = delete;

    // Any thread; taken at the next render(). Values are clamped to the ranges above.
    void setTempo(double tempo);
    void setSemitones(double semitones);
    double tempo() const { return tempo_.load(); }
    double semitones() const { return semitones_.load(); }
    // Whether the signal is changed at all (otherwise a caller may bypass the stretcher).
    bool active() const { return tempo() != 1.0 || semitones() != 0.0; }
    // Any thread: the next render() starts a new run from the source's next frame.
    void reset() { resetAsked_ = true; }

    // Fills `planar` (channel after channel, `frames` apart) and returns how many frames: fewer
    // only once the source has ended and all of it is out. Not thread-safe; one caller.
    int64_t render(float* planar, int64_t frames, const Source& source);
    // Source frames taken but not heard in the output yet, in source frames: what a playhead
    // subtracts from the source's position.
    int64_t pending() const { return pending_.load(std::memory_order_relaxed); }

    // Which Rubber Band engine runs: "R3 (finer)" where a core is fast enough, else "R2 (faster)".
    std::string engineName() const;
    // The delay through the stretcher at the current settings, in output frames.
    int64_t latency() const;

private:
    void start();  // a new run: pad the input, drop the output's start delay
    void applySettings();

    int rate_, channels_;
    std::unique_ptr<RubberBand::RubberBandStretcher> rb_;
    std::atomic<double> tempo_{1.0}, semitones_{0.0};
    std::atomic<bool> resetAsked_{true};
    std::atomic<int64_t> pending_{0};
    double appliedTempo_ = 0, appliedSemitones_ = 1e9;
    int64_t toDrop_ = 0;
    double fed_ = 0, heard_ = 0;  // source frames taken, and heard (output frames x tempo)
    bool ended_ = false, flushed_ = false;  // the source ended; the stretcher was told
    std::vector<float> in_, scratch_;
    std::vector<float*> inPtr_, outPtr_;
};

// A planar reader (n frames each, channel after channel, as AudioReader::read) heard through a
// stretcher, as the same kind of reader: for writing files. The output is cut at the source's
// length divided by the tempo (`sourceFrames`: the source's length; 0: not cut).
using PlanarRead = std::function<int64_t(float* planar, int64_t max)>;
PlanarRead stretched(PlanarRead read, int sampleRate, int channels, double tempo, double semitones,
                     int64_t sourceFrames);

// Whether this CPU runs Rubber Band's finer engine (R3) fast enough for playback: measured once
// per process on a second of noise.
bool finerEngineFastEnough();

}  // namespace msplit
