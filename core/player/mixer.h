#pragma once
// The stem mixer: every lane summed on one sample clock, with gain, mute, solo and pan, a loop
// region and sample-exact seeks. Gain changes ramp over a few milliseconds so nothing clicks.
// The audio thread calls render(); the UI thread changes settings; a mutex keeps them apart.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/audio/audio_buffer.h"

namespace msplit {

class Mixer {
public:
    explicit Mixer(int sampleRate = 44100, int rampFrames = 441);

    // Adds a lane (mono or stereo, at the mixer's rate), shared rather than copied (stems of a
    // long song are gigabytes); returns its index.
    int addLane(std::shared_ptr<const AudioBuffer> audio);
    int addLane(const AudioBuffer& audio) { return addLane(std::make_shared<AudioBuffer>(audio)); }
    int lanes() const { return static_cast<int>(lanes_.size()); }
    int64_t length() const;  // frames of the longest lane
    int sampleRate() const { return rate_; }
    int rampFrames() const { return ramp_; }

    // The whole song as the lanes' current settings make it (no ramps; the position is untouched),
    // for exporting the mix as heard.
    AudioBuffer mixdown() const;
    // A lane's audio (for drawing its waveform).
    std::shared_ptr<const AudioBuffer> laneAudio(int lane) const;

    void setGainDb(int lane, double db);
    void setMute(int lane, bool on);
    void setSolo(int lane, bool on);
    void setPan(int lane, double pan);  // -1 left .. 1 right (balance: 0 leaves both sides alone)
    bool muted(int lane) const;
    bool soloed(int lane) const;
    // Whether a lane is heard with the current mute and solo states (mute wins over solo).
    bool audible(int lane) const;

    void seek(int64_t frame);  // exact; clamped to the length
    int64_t position() const;
    // A loop region [start, end): playback wraps from end to start without a gap. end <= start:
    // off.
    void setLoop(int64_t start, int64_t end);
    bool looping() const;

    // Writes up to `frames` interleaved stereo frames from the position and advances it; returns
    // how many were written (fewer only at the end of the song when not looping).
    int64_t render(float* out, int64_t frames);

private:
    struct Lane {
        std::shared_ptr<const AudioBuffer> audio;
        const float* left = nullptr;   // channel 0
        const float* right = nullptr;  // channel 1, or 0 again for mono
        int64_t size = 0;              // frames
        double gain = 1;               // linear
        double pan = 0;
        bool mute = false, solo = false;
        double current[2] = {1, 1};  // the gains in effect, ramping towards the targets
        double step[2] = {0, 0};
        int64_t rampLeft = 0;
    };
    void retarget();                  // after any change: start ramps towards the new targets
    int64_t longestLane() const;      // in frames; the caller holds the mutex
    bool heard(const Lane& l) const;  // mute and solo; the caller holds the mutex
    double target(const Lane& l, int side) const;
    int64_t renderSpan(float* out, int64_t frames);

    int rate_, ramp_;
    std::vector<Lane> lanes_;
    int64_t pos_ = 0;
    int64_t loopStart_ = 0, loopEnd_ = 0;
    mutable std::mutex mutex_;
};

}  // namespace msplit
