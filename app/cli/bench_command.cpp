// music-split-cli bench: full-size official layouts with random weights (no download needed),
// timed on generated audio, with the process's peak memory.
#include <sys/resource.h>

#include <QCommandLineParser>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "app/cli/commands.h"
#include "app/cli/progress_printer.h"
#include "app/exit_codes.h"
#include "core/engine/engine.h"

namespace msplit::cli {
namespace {

double peakMemoryMB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// A music-like test signal, planar: a few tones, a beat and some noise, different in each channel.
std::vector<float> testSignal(double seconds, int samplerate, int channels) {
    const auto n = static_cast<size_t>(seconds * samplerate);
    std::vector<float> out(n * static_cast<size_t>(channels));
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 0.02f);
    for (int c = 0; c < channels; ++c)
        for (size_t i = 0; i < n; ++i) {
            const double t = double(i) / samplerate;
            const double tones = 0.2 * std::sin(2 * M_PI * 110 * t) +
                                 0.1 * std::sin(2 * M_PI * 440 * t) +
                                 0.05 * std::sin(2 * M_PI * 1320 * t);
            const double beat =
                0.3 * std::exp(-20 * std::fmod(t, 0.5)) * std::sin(2 * M_PI * 60 * t);
            out[size_t(c) * n + i] =
                static_cast<float>((c ? 0.8 : 1.0) * tones + beat) + noise(rng);
        }
    return out;
}

}  // namespace

int runBench(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Time a full-size model with random weights on generated audio.");
    p.addHelpOption();
    p.addOptions({
        {"config", "Model layout: htdemucs, htdemucs_6s or hdemucs (v3).", "NAME", "htdemucs"},
        {"seconds", "Length of the generated audio.", "N", "30"},
        {"device", "auto, cpu, cuda or cuda:N.", "D", engine::kDefaultDevice},
        {"precision", "float32, or float16/bfloat16 on CUDA.", "P", engine::kDefaultPrecision},
        {{"j", "jobs"}, "CPU threads (default: all cores).", "N", "0"},
        {"shifts", withDefault("Random shifts averaged", engine::defaultOptions().shifts), "N",
         QString::number(engine::defaultOptions().shifts)},
        {"overlap", withDefault("Overlap of segments", engine::defaultOptions().overlap), "F",
         QString::number(engine::defaultOptions().overlap)},
        {"batch", "Segments per model call.", "N",
         QString::number(engine::defaultOptions().batchSize)},
    });
    if (const int status = parseCommand(p, args); status >= 0) return status;
    const double seconds = p.value("seconds").toDouble();
    if (seconds <= 0) {
        std::fprintf(stderr, "music-split-cli: --seconds must be a positive number\n");
        return exit_code::kUsage;
    }
    try {
        engine::setThreads(p.value("jobs").toInt());
        const double before = peakMemoryMB();
        const auto model = engine::Separator::random(p.value("config").toStdString(),
                                                     p.value("device").toStdString(),
                                                     p.value("precision").toStdString());
        const std::vector<float> mix = testSignal(seconds, model->sampleRate(), model->channels());
        engine::SeparateOptions opt = engine::defaultOptions();
        opt.shifts = p.value("shifts").toInt();
        opt.overlap = p.value("overlap").toDouble();
        opt.batchSize = p.value("batch").toInt();
        opt.seed = 1;
        ProgressPrinter printer("bench");
        const auto start = std::chrono::steady_clock::now();
        const auto frames = static_cast<int64_t>(mix.size()) / model->channels();
        const auto stems = model->separate(mix.data(), frames, opt, std::ref(printer));
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        printer.finish();
        for (const auto& stem : stems)
            for (float x : stem)
                if (!std::isfinite(x)) throw engine::Error("the model produced non-finite values");
        std::printf("model        %s (%lld parameters, random weights)\n",
                    qPrintable(p.value("config")), static_cast<long long>(model->parameters()));
        std::printf("device       %s, precision %s, batch %d, shifts %d, overlap %.2f\n",
                    model->deviceName().c_str(), qPrintable(p.value("precision")), opt.batchSize,
                    opt.shifts, opt.overlap);
        if (const std::string blas = engine::blasDescription(); !model->onGpu() && !blas.empty())
            std::printf("blas         %s\n", blas.c_str());
        std::printf("audio        %.1f s stereo at %d Hz\n", seconds, model->sampleRate());
        std::printf("time         %.2f s (%.3f s per second of audio, %.2fx real time)\n", elapsed,
                    elapsed / seconds, seconds / elapsed);
        std::printf("peak memory  %.0f MB (process; %.0f MB before the model)\n", peakMemoryMB(),
                    before);
        if (!model->onGpu())  // what the forward itself held at most, for memory work
            std::printf("peak tensors %.0f MB (of 1 MB or more, weights included)\n",
                        static_cast<double>(engine::peakTensorBytes()) / 1e6);
        return exit_code::kOk;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.what());
        return exit_code::kFailed;
    }
}

}  // namespace msplit::cli
