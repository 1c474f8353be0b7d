#pragma once
// The app's defaults that are not the engine's: the CLI, the GUI's settings and the server read
// these. The engine's own (shifts, overlap, segment, batch, device, precision) are in
// core/engine/engine.h: engine::defaultOptions(), engine::kDefaultDevice and kDefaultPrecision.
namespace msplit::defaults {

inline constexpr const char* kModel = "htdemucs";
inline constexpr const char* kFilenameTemplate = "{track}/{stem}.{ext}";
inline constexpr const char* kOtherMethod = "add";       // --two-stems: add | minus | none
inline constexpr const char* kLibraryFormat = "flac24";  // library stems: flac24 | wav32f
inline constexpr int kMp3BitrateKbps = 320;
inline constexpr int kSampleRate = 44100;

}  // namespace msplit::defaults
