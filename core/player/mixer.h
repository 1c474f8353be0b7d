#pragma once
// The stem mixer: every lane summed on one sample clock, with gain, mute, solo and pan, a loop
// region and sample-exact seeks. Gain changes ramp over a few milliseconds so nothing clicks.
//
// Lanes are either audio in memory or a LaneSource on disk. A reader thread keeps a ring of the
// next seconds of every disk lane; render(), on the audio thread, takes no lock and allocates
// nothing: settings, seeks and the loop reach it through atomics. When a lane's ring runs dry
// (just after a seek, or at the frontier of a separation still running) render() gives silence
// and holds the position, so the lanes never drift apart and the playhead waits at the frontier.
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/audio/audio_buffer.h"
#include "core/player/lane_source.h"

namespace msplit {

class Mixer {
public:
    explicit Mixer(int sampleRate = 44100, int rampFrames = 441);
    ~Mixer();
    Mixer(const Mixer&) = delete;
    Mixer& operator=(const Mixer&) = delete;

    // Lanes are added before anything renders. Audio in memory (mono or stereo, at the mixer's
    // rate) is shared, not copied; returns the lane's index.
    int addLane(std::shared_ptr<const AudioBuffer> audio);
    int addLane(const AudioBuffer& audio) { return addLane(std::make_shared<AudioBuffer>(audio)); }
    // A lane read from disk by the reader thread.
    int addLane(std::unique_ptr<LaneSource> source);
    int lanes() const { return static_cast<int>(lanes_.size()); }
    int64_t length() const;  // frames of the longest lane
    // Frames from the start that every lane can play now (the length once all are on disk).
    int64_t frontier() const;
    int sampleRate() const { return rate_; }
    int rampFrames() const { return ramp_; }

    void setGainDb(int lane, double db);
    void setMute(int lane, bool on);
    void setSolo(int lane, bool on);
    void setPan(int lane, double pan);  // -1 left .. 1 right (balance: 0 leaves both sides alone)
    bool muted(int lane) const;
    bool soloed(int lane) const;
    // Whether a lane is heard with the current mute and solo states (mute wins over solo).
    bool audible(int lane) const;
    // The lane's gain on each side as heard now (0 when not heard): the mix as heard, for export.
    std::array<double, 2> heardGain(int lane) const;

    void seek(int64_t frame);  // exact; clamped to the length
    int64_t position() const;
    // A loop region [start, end): playback wraps from end to start without a gap. end <= start:
    // off.
    void setLoop(int64_t start, int64_t end);
    bool looping() const;
    std::pair<int64_t, int64_t> loop() const;  // [start, end), as last set
    // How many times playback has wrapped from the loop's end to its start (for repeat counts).
    uint64_t loopWraps() const { return wraps_.load(std::memory_order_relaxed); }
    // Before the next frames of the song, `beats` clicks `interval` frames apart (song time, so
    // a stretched mix slows them too), the first one accented; the song then starts on the beat
    // after the last, to the sample. The position holds meanwhile. beats 0: none (cancels one
    // under way).
    void countIn(int beats, int64_t interval, double gain = 1.0);
    bool countingIn() const {
        return countAsked_.load(std::memory_order_relaxed) ||
               countLeft_.load(std::memory_order_relaxed) > 0;
    }
    // Whether the last render waited for audio (a disk lane not read yet, or not separated yet).
    bool stalled() const { return stalled_.load(std::memory_order_relaxed); }

    // Writes `frames` interleaved stereo frames from the position and advances it; returns how
    // many were written: fewer only at the end of the song when not looping. Frames the lanes do
    // not have yet are silence and do not advance the position; `played`, when given, gets how
    // many frames of the song were played.
    int64_t render(float* out, int64_t frames, int64_t* played = nullptr);

private:
    struct Lane;
    struct Plan {  // what the audio thread plays from, as the reader thread must follow it
        int64_t epoch = 0, start = 0, loopStart = 0, loopEnd = 0;
    };
    int addLane(std::unique_ptr<Lane> lane);
    double target(const Lane& l, int side) const;  // UI thread
    void publishTargets();                         // UI thread: after any setting changes
    bool heard(const Lane& l) const;
    void adopt(int64_t start);  // audio thread: a new plan from `start`
    int64_t renderSpan(float* out, int64_t frames, bool* dry);
    void readerLoop();
    void fillLane(Lane& l, const Plan& plan);

    int rate_, ramp_;
    std::vector<std::unique_ptr<Lane>> lanes_;
    int64_t length_ = 0;
    // UI thread -> audio thread.
    std::atomic<int64_t> seekTarget_{0};
    std::atomic<uint64_t> seekCount_{0};
    std::atomic<uint64_t> loop_{0};  // start << 32 | end, in frames (27 hours at 44.1 kHz)
    std::atomic<uint64_t> loopCount_{0};
    // Audio thread state; pos_ is read by the UI.
    std::atomic<int64_t> pos_{0};
    uint64_t seenSeeks_ = 0, seenLoops_ = 0;
    std::atomic<uint64_t> seenSeeksShared_{0};  // seenSeeks_, for position() on the UI thread
    int64_t loopStart_ = 0, loopEnd_ = 0;
    std::atomic<bool> stalled_{false};
    std::atomic<uint64_t> wraps_{0};
    // Count-in: asked for on the UI thread (seq, beats, interval, gain), played on the audio one.
    std::atomic<uint64_t> countSeq_{0};
    std::atomic<int64_t> countBeats_{0}, countInterval_{0};
    std::atomic<double> countGain_{1.0};
    uint64_t seenCount_ = 0;
    std::atomic<int64_t> countLeft_{0};
    std::atomic<bool> countAsked_{false};  // set on the UI thread until the audio one takes it
    int64_t countDone_ = 0, countStep_ = 0;
    double countLevel_ = 1.0;
    int64_t renderCountIn(float* out, int64_t frames);  // audio thread
    // The plan the audio thread follows (a seqlock: the reader thread retries a torn read).
    std::atomic<uint64_t> planSeq_{0};
    std::atomic<int64_t> planEpoch_{0}, planStart_{0}, planLoopStart_{0}, planLoopEnd_{0};
    // The reader thread.
    std::thread reader_;
    std::mutex wakeMutex_;
    std::condition_variable wake_;
    std::atomic<bool> quit_{false};
};

}  // namespace msplit
