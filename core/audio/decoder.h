#pragma once
// Decoding any file FFmpeg reads (audio, or the audio track of a video) to float32.
#include <functional>
#include <memory>
#include <string>

#include "core/audio/audio_buffer.h"

namespace msplit {

// Container, codec, rate, channels, duration and tags, without decoding. Throws Error.
AudioInfo probeAudio(const std::string& path);

// Decodes the best audio stream, resampled to `sampleRate` with `channels` (mono is duplicated,
// more channels are down-mixed the standard way). `progress` gets the fraction done and returns
// false to cancel (Error kind Cancelled). Throws Error naming the file and the reason.
AudioBuffer decodeAudio(const std::string& path, int sampleRate = 44100, int channels = 2,
                        AudioInfo* info = nullptr,
                        const std::function<bool(double)>& progress = {});

// A file decoded block by block, in order, resampled as decodeAudio does: for songs too long to
// hold (an hour of stereo float is 1.3 GB). Not thread-safe; one reader per thread.
class AudioReader {
public:
    // Opens the best audio stream. Throws Error naming the file and the reason.
    AudioReader(const std::string& path, int sampleRate = 44100, int channels = 2);
    ~AudioReader();
    AudioReader(const AudioReader&) = delete;
    AudioReader& operator=(const AudioReader&) = delete;

    const AudioInfo& info() const;  // durationSeconds: the header's estimate
    int channels() const;
    // Fills `planar` with up to `max` frames (channel after channel, n frames each) and returns
    // n; 0 at the end. Throws Error for corrupt audio or NaN/infinite samples.
    int64_t read(float* planar, int64_t max);
    int64_t framesRead() const;
    // Moves to output frame `frame`, so that the next read starts exactly there in files with
    // exact timestamps (WAV, FLAC, and most others; an MP3 without an index lands close). Past
    // the end, reads give 0. Throws Error when the file cannot be read there.
    void seek(int64_t frame);
    // The length in output frames from the header (exact for WAV and FLAC); 0 when unknown.
    int64_t lengthEstimate() const;
    double progress() const;  // fraction of the file read, by time

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace msplit
