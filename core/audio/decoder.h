#pragma once
// Decoding any file FFmpeg reads (audio, or the audio track of a video) to float32.
#include <functional>
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

}  // namespace msplit
