#pragma once
// The one source of truth for defaults: the CLI, the GUI's settings and the server read these.
namespace msplit::defaults {

inline constexpr const char* kModel = "htdemucs";
inline constexpr int kShifts = 1;  // as the demucs CLI
inline constexpr double kOverlap = 0.25;
inline constexpr const char* kDevice = "auto";
inline constexpr const char* kPrecision = "float32";
inline constexpr const char* kFilenameTemplate = "{track}/{stem}.{ext}";
inline constexpr int kMp3BitrateKbps = 320;
inline constexpr int kSampleRate = 44100;
inline constexpr int kBatchSegments = 1;

}  // namespace msplit::defaults
