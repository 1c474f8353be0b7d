// music-split-cli bench-player: how a long separated song opens and seeks in the player. A song
// of generated stems (24-bit FLAC, as the library keeps them, with the peaks a separation keeps
// beside them) is made once in a folder; a fresh process then opens it as the track view does and
// reports the time to open, the latency of seeks anywhere, its peak memory, and what the
// practice stretcher (Rubber Band) costs while it plays.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

#include "app/cli/commands.h"
#include "app/cli/test_signal.h"
#include "app/exit_codes.h"
#include "core/audio/encoder.h"
#include "core/audio/peaks.h"
#include "core/error.h"
#include "core/jobs/library.h"
#include "core/player/player.h"
#include "core/practice/stretcher.h"

namespace msplit::cli {
namespace {

const QStringList kStems{"drums", "bass", "other", "vocals"};

// The song as the library holds it: the original and the stems, each with its peaks.
TrackFiles trackIn(const QString& folder) {
    TrackFiles t;
    t.names = kStems;
    for (const QString& stem : kStems) {
        t.files << folder + "/" + stem + ".flac";
        t.peaks << JobRecord::peaksFile(folder, stem);
    }
    t.original = folder + "/original.flac";
    t.originalPeaks = JobRecord::peaksFile(folder, {});
    return t;
}

// Writes the song block by block (nothing whole in memory), peaks made on the way.
void makeSong(const QString& folder, double minutes) {
    const TrackFiles t = trackIn(folder);
    QDir().mkpath(folder + "/.waveform");
    const auto frames = static_cast<int64_t>(minutes * 60 * 44100);
    EncodeOptions o;
    o.format = FileFormat::Flac;
    o.depth = SampleFormat::Int24;
    o.clip = ClipMode::Clamp;
    std::vector<float> block;
    for (int k = 0; k <= kStems.size(); ++k) {
        const bool original = k == kStems.size();
        const QString file = original ? t.original : t.files[k];
        AudioWriter writer(file.toStdString(), 44100, 2, o);
        PeakCache peaks(frames);
        for (int64_t pos = 0; pos < frames; pos += 1 << 16) {
            const int64_t n = std::min<int64_t>(1 << 16, frames - pos);
            block.resize(size_t(2 * n));
            testSignal(pos + k * 7919, n, 44100, 2, block.data());  // a different part per stem
            for (float& x : block)
                x *= 0.5f;
            writer.write(block.data(), n);
            peaks.append(block.data(), 2, n);
        }
        writer.commit();
        peaks.finish();
        peaks.save((original ? t.originalPeaks : t.peaks[k]).toStdString());
        std::fprintf(stderr, "bench-player: wrote %s\n", qPrintable(QFileInfo(file).fileName()));
    }
}

// The measuring process: opens the song as the track view does and seeks about.
int measure(const QString& folder, int seeks) {
    const double before = peakMemoryMB();
    Player player;
    QEventLoop loop;
    QString failure;
    QObject::connect(&player, &Player::loaded, &loop, &QEventLoop::quit);
    QObject::connect(&player, &Player::error, &loop, [&](const QString& e) {
        failure = e;
        loop.quit();
    });
    QElapsedTimer clock;
    clock.start();
    player.load(trackIn(folder));
    loop.exec();
    if (!failure.isEmpty()) throw Error(ErrorKind::InvalidInput, "", failure.toStdString());
    bool peaksKept = true;
    for (int i = 0; i < player.mixer()->lanes(); ++i)
        peaksKept = peaksKept && player.peaks(i) && player.peaks(i)->finished();
    const double openMs = double(clock.nsecsElapsed()) / 1e6;
    // A seek is heard when the mixer first plays frames from the new place; the sound card adds
    // its own buffer (100 ms at most as the player sets it) on top.
    Mixer& m = *player.mixer();
    m.setMute(0, false);
    std::mt19937 rng(5);
    std::vector<double> latencies;
    std::vector<float> out(2 * 1024);
    for (int i = 0; i < seeks; ++i) {
        const int64_t at = std::uniform_int_distribution<int64_t>(0, m.length() - 44100)(rng);
        clock.restart();
        m.seek(at);
        int64_t played = 0;
        while (played == 0 && clock.elapsed() < 5000)
            m.render(out.data(), 1024, &played);
        latencies.push_back(double(clock.nsecsElapsed()) / 1e6);
        if (played == 0) throw Error(ErrorKind::Internal, "", "a seek did not play within 5 s");
    }
    std::sort(latencies.begin(), latencies.end());

    // The stretcher as the player runs it: the mix pulled through it in the sound card's blocks.
    // What counts is this thread's CPU per second heard, and the slowest block against the time
    // it plays (a block slower than that is a dropout).
    Stretcher stretcher(m.sampleRate(), 2);
    stretcher.setTempo(0.8);
    stretcher.setSemitones(2);
    m.seek(m.length() / 3);
    const int64_t block = 1024, blocks = 30 * 44100 / block;
    std::vector<float> planar(2 * block), mixed;
    auto cpuSeconds = [] {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
    };
    const double cpu0 = cpuSeconds();
    const double blockMs = 1000.0 * double(block) / m.sampleRate(), bufferMs = 100;
    double worstMs = 0, buffered = bufferMs;  // the player's sound buffer, full at the start
    int dropouts = 0;
    for (int64_t b = 0; b < blocks; ++b) {
        // A full buffer waits for the card; then it plays on while this block is made.
        buffered = std::min(buffered, bufferMs - blockMs);
        clock.restart();
        stretcher.render(planar.data(), block, [&](float* in, int64_t want) {
            mixed.resize(size_t(2 * want));
            int64_t got = 0;
            while (got == 0) {  // the reader thread keeps up; wait for it rather than count it
                int64_t played = 0;
                m.render(mixed.data(), want, &played);
                got = played;
            }
            for (int64_t i = 0; i < got; ++i) {
                in[i] = mixed[size_t(2 * i)];
                in[want + i] = mixed[size_t(2 * i + 1)];
            }
            return got;
        });
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        worstMs = std::max(worstMs, ms);
        buffered -= ms;
        if (buffered < 0) {
            ++dropouts;
            buffered = 0;
        }
        buffered += blockMs;
    }
    const double heard = double(blocks * block) / m.sampleRate();
    const double share = (cpuSeconds() - cpu0) / heard;

    std::printf("song         %.1f minutes, %lld lanes (4 stems, 24-bit FLAC, and the original)\n",
                double(m.length()) / 44100 / 60, static_cast<long long>(m.lanes()));
    std::printf("open         %.0f ms (waveform peaks %s)\n", openMs,
                peaksKept ? "read from the kept files" : "NOT kept: made again");
    std::printf("seek         median %.1f ms, worst %.1f ms (%d seeks anywhere)\n",
                latencies[latencies.size() / 2], latencies.back(), seeks);
    std::printf("peak memory  %.0f MB (process; %.0f MB before opening)\n", peakMemoryMB(), before);
    std::printf(
        "stretch      %s at 80 %% tempo, +2 semitones: %.0f %% of a core while playing; "
        "slowest %lld-frame block %.1f ms (it plays for %.1f ms); dropouts with the player's "
        "%.0f ms buffer: %d in %.0f s\n",
        stretcher.engineName().c_str(), 100 * share, static_cast<long long>(block), worstMs,
        blockMs, bufferMs, dropouts, heard);
    return exit_code::kOk;
}

}  // namespace

int runBenchPlayer(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Time opening and seeking a long separated song in the player.");
    p.addHelpOption();
    p.addOptions({
        {"minutes", "Length of the generated song.", "N", "60"},
        {"folder", "Where the song is made (and kept for the next run); default: a temporary one.",
         "DIR"},
        {"seeks", "Seeks to time.", "N", "20"},
        {"measure", "Only open the song in FOLDER (the measuring process)."},
    });
    if (const int status = parseCommand(p, args); status >= 0) return status;
    const double minutes = p.value("minutes").toDouble();
    if (minutes <= 0 || p.value("seeks").toInt() <= 0) {
        std::fprintf(stderr, "music-split-cli: --minutes and --seeks must be positive\n");
        return exit_code::kUsage;
    }
    try {
        if (p.isSet("measure")) return measure(p.value("folder"), p.value("seeks").toInt());
        QTemporaryDir temp;
        const QString folder = p.isSet("folder") ? p.value("folder") : temp.path();
        if (!QFile::exists(trackIn(folder).originalPeaks)) makeSong(folder, minutes);
        // A fresh process, so its peak memory is the player's alone.
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        child.start(QCoreApplication::applicationFilePath(),
                    {"bench-player", "--measure", "--folder", folder, "--seeks", p.value("seeks")});
        if (!child.waitForStarted()) {
            std::fprintf(stderr, "music-split-cli: cannot start the measuring process: %s\n",
                         qPrintable(child.errorString()));
            return exit_code::kFailed;
        }
        child.waitForFinished(-1);
        return child.exitStatus() == QProcess::NormalExit ? child.exitCode() : exit_code::kFailed;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.what());
        return exit_code::kFailed;
    }
}

}  // namespace msplit::cli
