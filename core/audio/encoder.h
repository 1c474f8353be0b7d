#pragma once
// Writing stems: WAV (16, 24, 32-bit float), FLAC (16, 24), MP3 (LAME), always atomically.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/audio/audio_buffer.h"
#include "core/defaults.h"

namespace msplit {

class FloatSpool;

enum class FileFormat { Wav, Flac, Mp3 };
enum class SampleFormat { Int16, Int24, Float32 };
// As demucs: rescale divides by max(1.01 * peak, 1); clamp clips to +-0.99; none leaves it.
enum class ClipMode { Rescale, Clamp, None };

struct EncodeOptions {
    FileFormat format = FileFormat::Wav;
    SampleFormat depth = SampleFormat::Int16;  // ignored for MP3
    int mp3BitrateKbps = defaults::kMp3BitrateKbps;
    ClipMode clip = ClipMode::Rescale;
    std::map<std::string, std::string> tags;  // title, artist, album, ...
};

// Encodes into a temporary file beside `path` and renames it into place: `path` is either the
// complete file or untouched. `progress` returns false to cancel. Throws Error.
void encodeAudio(const std::string& path, const AudioBuffer& audio, const EncodeOptions& options,
                 const std::function<bool(double)>& progress = {});

// Writes audio that arrives block by block, in order, into `path` ("-": standard output, as a
// stream whose header leaves the length open): a temporary file beside it while it is written,
// renamed into place by commit(), removed if the writer goes without one. The result equals a
// file encodeAudio writes from the whole. `options.clip` must be Clamp or None (Rescale needs
// the whole audio's peak). Throws Error (Io with the reason: disk full, reader gone).
class AudioWriter {
public:
    AudioWriter(const std::string& path, int sampleRate, int channels,
                const EncodeOptions& options);
    ~AudioWriter();
    AudioWriter(const AudioWriter&) = delete;
    AudioWriter& operator=(const AudioWriter&) = delete;

    // `frames` frames, channel after channel.
    void write(const float* planar, int64_t frames);
    void commit();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes what a spool holds into `path` as encodeAudio would write it whole: the clip mode
// applied to all of it (Rescale by the spool's peak), atomically. Throws Error.
void encodeSpool(const std::string& path, int sampleRate, const FloatSpool& spool,
                 const EncodeOptions& options);

// Writes audio that `read` gives block by block (planar, channel after channel, n frames each;
// it returns n, 0 at the end) into `path`, atomically, with any clip mode: Rescale goes by way
// of a spool beside `path`, since it needs the whole audio's peak. Throws Error.
void encodeStream(const std::string& path, int sampleRate, int channels,
                  const EncodeOptions& options,
                  const std::function<int64_t(float* planar, int64_t max)>& read);

// The clip mode applied in place (exposed for the player's export of the current mix).
void applyClipMode(AudioBuffer& audio, ClipMode mode);

}  // namespace msplit
