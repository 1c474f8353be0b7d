// music-split-cli bench: full-size official layouts with random weights (no download needed),
// timed on generated audio, with the process's peak memory.
#include <sys/resource.h>

#include <QCommandLineParser>

#include <chrono>
#include <cstdio>

#include "app/cli/commands.h"
#include "app/cli/progress_printer.h"
#include "core/defaults.h"
#include "core/engine/allocator.h"
#include "core/engine/apply.h"
#include "core/engine/blas.h"
#include "core/engine/device.h"
#include "core/engine/error.h"
#include "core/engine/model_configs.h"

namespace msplit::cli {
namespace {

double peakMemoryMB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// A music-like test signal: a few tones, a beat and some noise, different in each channel.
at::Tensor testSignal(double seconds, int64_t samplerate) {
    const auto n = static_cast<int64_t>(seconds * static_cast<double>(samplerate));
    at::Tensor t = at::arange(n, at::kFloat) / static_cast<double>(samplerate);
    at::Tensor tones = 0.2 * at::sin(2 * M_PI * 110 * t) + 0.1 * at::sin(2 * M_PI * 440 * t) +
                       0.05 * at::sin(2 * M_PI * 1320 * t);
    at::Tensor beat = 0.3 * at::exp(-20 * at::fmod(t, 0.5)) * at::sin(2 * M_PI * 60 * t);
    at::Generator gen = at::detail::createCPUGenerator(7);
    at::Tensor left = tones + beat + 0.02 * at::randn({n}, gen);
    at::Tensor right = 0.8 * tones + beat + 0.02 * at::randn({n}, gen);
    return at::stack({left, right});
}

}  // namespace

int runBench(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Time a full-size model with random weights on generated audio.");
    p.addHelpOption();
    p.addOptions({
        {"config", "Model layout: htdemucs, htdemucs_6s or hdemucs (v3).", "NAME", "htdemucs"},
        {"seconds", "Length of the generated audio.", "N", "30"},
        {"device", "auto, cpu, cuda or cuda:N.", "D", defaults::kDevice},
        {"precision", "float32, or float16/bfloat16 on CUDA.", "P", defaults::kPrecision},
        {{"j", "jobs"}, "CPU threads (default: all cores).", "N", "0"},
        {"shifts", "Random shifts, as in separate.", "N", QString::number(defaults::kShifts)},
        {"overlap", "Overlap between segments.", "F", QString::number(defaults::kOverlap)},
        {"batch", "Segments per model call.", "N", QString::number(defaults::kBatchSegments)},
    });
    if (const int status = parseCommand(p, args); status >= 0) return status;
    try {
        engine::setThreads(p.value("jobs").toInt());
        const at::Device device = engine::parseDevice(p.value("device").toStdString());
        const at::ScalarType dtype =
            engine::parsePrecision(p.value("precision").toStdString(), device);
        const double before = peakMemoryMB();
        auto built = engine::buildRandomModel(p.value("config").toStdString(),
                                              at::TensorOptions().device(device).dtype(dtype));
        engine::Bag bag({built.model});
        const double seconds = p.value("seconds").toDouble();
        if (seconds <= 0) throw engine::Error("--seconds must be positive");
        at::Tensor mix = testSignal(seconds, bag.samplerate());
        engine::ApplyOptions opt;
        opt.shifts = p.value("shifts").toInt();
        opt.overlap = p.value("overlap").toDouble();
        opt.batchSize = p.value("batch").toInt();
        opt.seed = 1;
        ProgressPrinter printer("bench");
        const auto start = std::chrono::steady_clock::now();
        at::Tensor out = engine::separate(bag, mix, opt, std::ref(printer));
        if (device.is_cuda()) out = out.cpu();
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        printer.finish();
        if (!out.isfinite().all().item<bool>())
            throw engine::Error("the model produced non-finite values");
        std::printf("model        %s (%lld parameters, random weights)\n",
                    qPrintable(p.value("config")), static_cast<long long>(built.parameters));
        std::printf("device       %s, precision %s, batch %d, shifts %d, overlap %.2f\n",
                    engine::deviceDescription(device).c_str(), qPrintable(p.value("precision")),
                    opt.batchSize, opt.shifts, opt.overlap);
        if (const std::string blas = engine::blasDescription(); !device.is_cuda() && !blas.empty())
            std::printf("blas         %s\n", blas.c_str());
        std::printf("audio        %.1f s stereo at %lld Hz\n", seconds,
                    static_cast<long long>(bag.samplerate()));
        std::printf("time         %.2f s (%.3f s per second of audio, %.2fx real time)\n", elapsed,
                    elapsed / seconds, seconds / elapsed);
        std::printf("peak memory  %.0f MB (process; %.0f MB before the model)\n", peakMemoryMB(),
                    before);
        if (!device.is_cuda())  // what the forward itself held at most, for memory work
            std::printf("peak tensors %.0f MB (of 1 MB or more, weights included)\n",
                        static_cast<double>(engine::largeBlockStats().peak) / 1e6);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.what());
        return 1;
    }
}

}  // namespace msplit::cli
