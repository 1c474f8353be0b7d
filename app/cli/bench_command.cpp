// music-split-cli bench: full-size official layouts with random weights (no download needed),
// timed on generated audio, with the process's peak memory.
#include <QCommandLineParser>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "app/cli/commands.h"
#include "app/cli/progress_printer.h"
#include "app/cli/test_signal.h"
#include "app/exit_codes.h"
#include "core/engine/engine.h"

namespace msplit::cli {
int runBench(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Time a full-size model with random weights on generated audio.");
    p.addHelpOption();
    p.addOptions({
        {"config", "Model layout: htdemucs, htdemucs_6s or hdemucs (v3).", "NAME", "htdemucs"},
        {"seconds", "Length of the generated audio.", "N", "30"},
        {"device", "auto, cpu, cuda or cuda:N.", "D", engine::kDefaultDevice},
        {"precision",
         "float32; float16 on CUDA; bfloat16 on CUDA or on CPUs with AVX512-BF16 or AMX.", "P",
         engine::kDefaultPrecision},
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
        // Streamed as the CLI streams a file: a statistics pass, then the separation reading
        // the signal block by block; the stems are checked and dropped as they come.
        const int rate = model->sampleRate(), C = model->channels();
        const auto frames = static_cast<int64_t>(seconds * rate);
        engine::MixStatistics stats;
        std::vector<float> block;
        for (int64_t pos = 0; pos < frames; pos += 1 << 16) {
            const int64_t n = std::min<int64_t>(1 << 16, frames - pos);
            block.resize(size_t(C * n));
            testSignal(pos, n, rate, C, block.data());
            stats.add(block.data(), C, n);
        }
        engine::SeparateOptions opt = engine::defaultOptions();
        opt.shifts = p.value("shifts").toInt();
        opt.overlap = p.value("overlap").toDouble();
        opt.batchSize = p.value("batch").toInt();
        opt.seed = 1;
        ProgressPrinter printer("bench");
        const auto start = std::chrono::steady_clock::now();
        int64_t read = 0;
        bool finite = true;
        std::vector<double> forwards;
        model->separate(
            stats,
            [&](float* planar, int64_t max) {
                const int64_t n = std::min(max, frames - read);
                testSignal(read, n, rate, C, planar);
                read += n;
                return n;
            },
            [&](const float* stems, int64_t n) {
                const auto count = static_cast<int64_t>(model->sources().size()) * C * n;
                for (int64_t i = 0; i < count; ++i)
                    finite = finite && std::isfinite(stems[i]);
            },
            opt,
            [&](const engine::Progress& progress) {
                forwards.push_back(progress.elapsedSeconds);  // the end of each model forward
                printer(progress);
            });
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        printer.finish();
        if (!finite) throw engine::Error("the model produced non-finite values");
        std::printf("model        %s (%lld parameters, random weights)\n",
                    qPrintable(p.value("config")), static_cast<long long>(model->parameters()));
        std::printf("device       %s, precision %s, batch %d, shifts %d, overlap %.2f\n",
                    model->deviceName().c_str(), qPrintable(p.value("precision")), opt.batchSize,
                    opt.shifts, opt.overlap);
        if (const std::string blas = engine::blasDescription(); !model->onGpu() && !blas.empty())
            std::printf("blas         %s; OpenMP waits %s\n", blas.c_str(),
                        engine::ompWaitPolicy().c_str());
        std::printf("audio        %.1f s stereo at %d Hz\n", seconds, model->sampleRate());
        std::printf("time         %.2f s (%.3f s per second of audio, %.2fx real time)\n", elapsed,
                    elapsed / seconds, seconds / elapsed);
        // Whether a segment costs the same wherever it is in the song: the first and the last
        // tenth of the forwards (each after its predecessor, so the first's start-up is left out).
        if (forwards.size() >= 20) {
            const size_t tenth = forwards.size() / 10, last = forwards.size() - 1;
            const double early = (forwards[tenth] - forwards[0]) / double(tenth);
            const double late = (forwards[last] - forwards[last - tenth]) / double(tenth);
            std::printf("per forward  %.3f s in the first tenth of the song, %.3f s in the last\n",
                        early, late);
        }
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
