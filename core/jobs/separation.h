#pragma once
// One separation, start to finish, shared by the CLI, the GUI's jobs and the server: load the
// models, decode the song, run the engine, and write the stems.
#include <QString>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/audio/audio_buffer.h"
#include "core/audio/encoder.h"
#include "core/defaults.h"
#include "core/engine/engine.h"

namespace msplit {

struct SeparationSettings {
    std::string model = defaults::kModel;
    std::string repo;  // local model repository
    std::string device = engine::kDefaultDevice;
    std::string precision = engine::kDefaultPrecision;
    engine::SeparateOptions options = engine::defaultOptions();  // shifts, overlap, segment...
    std::optional<std::string> twoStems;                         // STEM and no_STEM
    std::string otherMethod = defaults::kOtherMethod;            // add | minus | none
    // The longest song taken (0: any), counted while decoding: a header's length can lie.
    double maxSeconds = 0;
};

struct LoadedModel {
    std::string name;
    std::shared_ptr<const engine::Separator> separator;
    std::string deviceName;
};

// Loads a bag or single model from the repository onto the settings' device. Throws Error.
LoadedModel loadSeparationModel(const SeparationSettings& settings);

struct Stem {
    std::string name;
    AudioBuffer audio;
};

// The stems a separation gives, in order: the model's sources, or with --two-stems STEM and
// no_STEM (add), minus_STEM (minus) or STEM alone (none). Throws Error for an unknown stem or
// method.
std::vector<std::string> outputStems(const LoadedModel& model, const SeparationSettings& settings);

// Receives the next `frames` frames of every output stem, in order: stem after stem (as
// outputStems), channel after channel.
using StemFrames = std::function<void(const float* stems, int64_t frames)>;

// Separates a file as a stream, the way the whole app does: a first pass reads it for its
// statistics (`reading` gets the fraction read and returns false to cancel), a second feeds the
// engine as the segments need it, and `write` gets the stems as they are final. Memory does not
// grow with the song. Returns the file's description (durationSeconds: what was decoded).
// Throws Error (kind Cancelled when `cancel` fires). `firstPass`, when given, sees the song's
// frames as the first pass reads them (channel after channel): for its waveform.
AudioInfo separateFile(const LoadedModel& model, const std::string& path,
                       const SeparationSettings& settings, const StemFrames& write,
                       const std::function<bool(double)>& reading = {},
                       const engine::ProgressCallback& progress = {},
                       const engine::CancelToken* cancel = nullptr,
                       const StemFrames& firstPass = {});

// Separates a decoded mix (at the model's rate and channels) into stems, as separateFile does.
// Throws Error (kind Cancelled when `cancel` fires).
std::vector<Stem> separateAudio(const LoadedModel& model, const AudioBuffer& mix,
                                const SeparationSettings& settings,
                                const engine::ProgressCallback& progress = {},
                                const engine::CancelToken* cancel = nullptr);

// Output path of a stem, as the demucs CLI names it: OUT / TEMPLATE with {track}, {trackext},
// {stem} and {ext}. Throws Error for a template that leaves the output folder.
std::string stemPath(const std::string& outDir, const std::string& filenameTemplate,
                     const std::string& inputPath, const std::string& stem, const std::string& ext);
// The same for a track known by name (a title, with no extension of its own). Every part that
// comes from outside (track, stem) is made a safe file name first: a title such as "AC/DC" or
// ".." stays one name inside the output folder.
std::string stemPathForTrack(const std::string& outDir, const std::string& filenameTemplate,
                             const QString& track, const QString& trackExtension,
                             const std::string& stem, const std::string& ext);

// The extension that goes with a format: wav, flac or mp3.
std::string extensionFor(FileFormat format);

}  // namespace msplit
