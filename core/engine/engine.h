#pragma once
// The Demucs engine as the rest of the app sees it: load models, separate float audio, choose the
// device and threads. No LibTorch type appears here, so LibTorch's headers stay in core/engine.
//
// Basic usage:
//   engine::prepareProcess();                               // first thing in main()
//   engine::ModelSpec spec;
//   spec.files = {"models/955717e8-8726e21a.th"};
//   auto separator = engine::Separator::load(spec);         // throws engine::Error
//   engine::SeparateOptions options = engine::defaultOptions();
//   options.shifts = 2;
//   auto stems = separator->separate(mix.data(), frames, options, onProgress, &cancel);
//
// Audio is planar float: channel after channel, `frames` samples each, at sampleRate().
// A loaded Separator never changes: several threads may separate with one at the same time.
// Callbacks run on the thread that calls separate().
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/error.h"
#include "core/engine/log.h"

namespace msplit::engine {

// ---- separation options ----------------------------------------------------------------------

// Every knob of a separation, with the demucs CLI's defaults: the one place they are written.
// The CLI, the server and the app's settings read them through defaultOptions().
struct SeparateOptions {
    int shifts = 1;                 // random offsets up to 0.5 s, averaged (0: none)
    bool split = true;              // process in overlapping segments
    double overlap = 0.25;          // between segments, from 0 to below 1
    double transitionPower = 1.0;   // of the triangular cross-fade, at least 1
    std::optional<double> segment;  // seconds; empty: the models' own
    uint64_t seed = 0;              // for the shifts; 0: random
    int batchSize = 1;              // segments per model call
};

inline SeparateOptions defaultOptions() {
    return SeparateOptions{};
}

// Where and how precisely models run.
inline constexpr const char* kDefaultDevice = "auto";        // auto, cpu, cuda or cuda:N
inline constexpr const char* kDefaultPrecision = "float32";  // see parsePrecision (device.h)

struct Progress {
    int64_t done = 0;  // model forwards finished
    int64_t total = 0;
    double elapsedSeconds = 0;
    double etaSeconds = -1;  // unknown until the first forward is done
    double fraction() const { return total ? double(done) / double(total) : 0.0; }
};
using ProgressCallback = std::function<void(const Progress&)>;

// Stops a separation before its next model forward (separate() then throws Cancelled).
class CancelToken {
public:
    void cancel() { cancelled_.store(true); }
    bool cancelled() const { return cancelled_.load(); }

private:
    std::atomic<bool> cancelled_{false};
};

// ---- streams ---------------------------------------------------------------------------------

// What Demucs normalises a song by: the mean and standard deviation of its mono mix over the
// whole song. A stream needs them before it starts, so callers read the song twice: once through
// add() (cheap: no model), then to separate.
class MixStatistics {
public:
    // `frames` frames of planar audio (channel after channel).
    void add(const float* planar, int channels, int64_t frames);
    int64_t frames() const { return frames_; }
    float mean() const;
    float deviation() const;  // unbiased, as torch.std

private:
    int64_t frames_ = 0;
    double mean_ = 0, m2_ = 0;  // Welford's running moments, in double
};

// Fills `planar` (channels x up to `maxFrames`, channel after channel, `n` frames each) with the
// next frames of the song, in order, and returns n >= 1. Asked only for frames that exist.
using MixRead = std::function<int64_t(float* planar, int64_t maxFrames)>;
// Receives the next finished frames of every stem, in order: `frames` frames laid out
// source after source, channel after channel ([s][c][i]).
using StemWrite = std::function<void(const float* stems, int64_t frames)>;

// A song held whole (planar, `channels` x `frames`) read as a stream, in order.
MixRead planarReader(const float* mix, int channels, int64_t frames);
// A stream's stems gathered whole: `stems` gets one planar buffer (channels x frames) each.
StemWrite planarWriter(std::vector<std::vector<float>>& stems, int channels, int64_t frames);

// ---- models ----------------------------------------------------------------------------------

// A model or a bag of models, as a repository's NAME.yaml describes it.
struct ModelSpec {
    std::vector<std::string> files;            // Demucs .th checkpoints, one per model
    std::vector<std::vector<double>> weights;  // a row per model, a weight per source; empty: 1
    std::optional<double> segment;             // seconds, when the bag sets one
    std::string device = kDefaultDevice;
    std::string precision = kDefaultPrecision;
};

class Separator {
public:
    // Reads and checks every file (nothing in them is executed). Throws Error naming the file.
    static std::shared_ptr<const Separator> load(const ModelSpec& spec);
    // A full-size model of an official layout (randomModelConfigs()) with random weights, for
    // benchmarks. Throws Error for an unknown layout, device or precision.
    static std::shared_ptr<const Separator> random(
        const std::string& config, const std::string& device = kDefaultDevice,
        const std::string& precision = kDefaultPrecision);
    ~Separator();
    Separator(const Separator&) = delete;
    Separator& operator=(const Separator&) = delete;

    const std::vector<std::string>& sources() const;
    int sampleRate() const;
    int channels() const;
    // The longest segment (seconds) every transformer model accepts; infinity when none limits.
    double maxSegment() const;
    // "CPU (2 threads)" or the GPU's name.
    std::string deviceName() const;
    bool onGpu() const;
    // The number of weights (scalars) of its models.
    int64_t parameters() const;

    // Separates `frames` frames of planar audio (channels() channels at sampleRate()) as the
    // demucs CLI does: normalised by the mono mix's mean and deviation, segments, shifts, the
    // bag's weights. Returns one planar buffer (channels() x frames) per source, in sources()
    // order. Throws Error (bad options, memory, LibTorch) or Cancelled.
    std::vector<std::vector<float>> separate(const float* mix, int64_t frames,
                                             const SeparateOptions& options,
                                             const ProgressCallback& progress = {},
                                             const CancelToken* cancel = nullptr) const;

    // The same as a stream: the song's `stats.frames()` frames are read through `read` as the
    // segments need them, and every stem's frames are written through `write` as soon as they
    // are final. Memory depends on the segment length, not the song's; the stems equal
    // separate()'s sample for sample, however the reads are cut. Throws as separate() does.
    void separate(const MixStatistics& stats, const MixRead& read, const StemWrite& write,
                  const SeparateOptions& options, const ProgressCallback& progress = {},
                  const CancelToken* cancel = nullptr) const;

private:
    struct Impl;  // LibTorch's side (engine.cpp)
    explicit Separator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The official layouts Separator::random builds: htdemucs, htdemucs_6s, hdemucs.
std::vector<std::string> randomModelConfigs();

// ---- the process -----------------------------------------------------------------------------

// What every program calls first, before any thread starts (later calls do nothing): installs
// the engine's allocator for large tensors, tunes glibc's heap for the small ones, and tunes
// OpenBLAS's kernels and idle threads.
void prepareProcess();
// The programs' mains call this with their argv before anything else: LibTorch's OpenMP
// threads spin between parallel regions, taking the cores from OpenBLAS's threads and the next
// region, and libgomp reads OMP_WAIT_POLICY only when it loads. So, on Linux, when the variable
// is unset, it is set to PASSIVE and the program executes itself again (same pid, same
// arguments); a user's own setting is kept. 5-9% faster on 2 cores (README).
void relaunchWithPassiveThreads(char** argv);
// How libgomp was told to wait: the OMP_WAIT_POLICY it read, or "default".
std::string ompWaitPolicy();
// Sets LibTorch's and the BLAS library's threads; n <= 0 means all cores (Debian's LibTorch
// starts with one). Calls prepareProcess() first.
void setThreads(int n);

bool cudaAvailable();
// Whether a device setting means a GPU here ("auto" does when CUDA is available); never throws.
bool meansGpu(const std::string& device);
// The device a setting names, in words ("CPU (8 threads)", "NVIDIA H200"). Throws Error for an
// unknown or absent device.
std::string describeDevice(const std::string& device);
// The NVIDIA GPU's model name ("NVIDIA H200"), or empty when the driver does not say.
std::string gpuName(int index);

// E.g. "OpenBLAS 0.3.21 (SkylakeX kernels)"; "" when the BLAS is not OpenBLAS.
std::string blasDescription();
// The most bytes ever held at once in tensors of 1 MB or more on the CPU (weights included).
std::size_t peakTensorBytes();

}  // namespace msplit::engine
