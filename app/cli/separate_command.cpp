// music-split-cli separate: the demucs CLI's `separate`, with the same options and output names.
#include <poll.h>
#include <unistd.h>

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/progress_printer.h"
#include "app/exit_codes.h"
#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/audio/float_spool.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/jobs/separation.h"
#include "core/paths.h"
#include "core/remote/remote_job.h"
#include "core/web_address.h"
#include "core/ytdlp/ytdlp_runner.h"

namespace msplit::cli {
namespace {

struct Options {
    SeparationSettings settings;
    QStringList inputs;
    QString outDir;
    QString filenameTemplate;
    EncodeOptions encode;
    int threads = 0;
    bool copyTags = false;
    QString ytDlp;
    RemoteConfig remote;  // enabled: a server separates instead of this machine
    // Without --repo or --remote the model comes from the cache, downloaded first if allowed.
    bool fromCache = false;
    ModelSource source;
    bool download = true;
    QString toStdout;  // --stdout STEM: only that stem, as a WAV stream on standard output
};

// The command line into options, with no side effects (no download, no exit). Returns -1 to go
// on, or the exit status after --help or a refused command line.
int parse(const QStringList& args, Options& o) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Separate songs into stems (drums, bass, vocals, ...) with Demucs models.");
    p.addHelpOption();
    p.addPositionalArgument(
        "inputs", "Audio or video files, or web addresses (via yt-dlp), to separate.", "INPUT...");
    p.addOptions({
        {{"o", "out"},
         "Output folder; stems go to OUT/NAME/. Default: separated.",
         "OUT",
         "separated"},
        {{"n", "name"}, "Model or bag name in the repository.", "NAME", defaults::kModel},
        {"repo", "Model repository folder (demucs --repo); default: the model cache.", "DIR"},
        {"no-download", "Fail instead of downloading a missing model."},
        {"yt-dlp", "The yt-dlp program for URL inputs (default: from PATH).", "PATH"},
        {"shifts", withDefault("Random shifts averaged", engine::defaultOptions().shifts), "N",
         QString::number(engine::defaultOptions().shifts)},
        {"overlap", withDefault("Overlap of segments", engine::defaultOptions().overlap), "F",
         QString::number(engine::defaultOptions().overlap)},
        {"segment", "Segment length in seconds (at most the model's).", "S"},
        {"two-stems", "Only STEM and no_STEM (the sum of the others).", "STEM"},
        {"other-method", "With --two-stems: add (default), minus (mix minus STEM) or none.", "M",
         defaults::kOtherMethod},
        {"int24", "24-bit integer WAV/FLAC."},
        {"float32", "32-bit float WAV."},
        {"flac", "FLAC output."},
        {"mp3", "MP3 output."},
        {"mp3-bitrate", "MP3 bitrate in kb/s.", "K", QString::number(defaults::kMp3BitrateKbps)},
        {"clip-mode", "Avoid clipping: rescale, clamp or none.", "MODE", "rescale"},
        {"copy-tags", "Copy the source's tags (title, artist, ...) into the stems."},
        {"device", "auto, cpu, cuda or cuda:N.", "D", engine::kDefaultDevice},
        {"precision",
         "float32; float16 on CUDA; bfloat16 on CUDA or on CPUs with AVX512-BF16 or AMX.", "P",
         engine::kDefaultPrecision},
        {{"j", "jobs"}, "CPU threads (default: all cores).", "N", "0"},
        {"batch", "Segments per model call.", "N",
         QString::number(engine::defaultOptions().batchSize)},
        {"seed", "Seed for --shifts (0: random).", "N", "0"},
        {"remote", "Separate on a Music Split server at URL instead of here.", "URL"},
        {"remote-token", "Bearer token for --remote.", "T"},
        {"filename", "Output name template: {track}, {trackext}, {stem}, {ext}.", "TEMPLATE",
         defaults::kFilenameTemplate},
        {"stdout",
         "Write only STEM (or no_STEM with --two-stems) to standard output as a WAV stream "
         "while it is separated (16-bit, or --int24/--float32; --clip-mode clamp or none).",
         "STEM"},
    });
    addModelSourceOptions(p);
    if (const int status = parseCommand(p, args); status >= 0) return status;
    o.inputs = p.positionalArguments();
    if (o.inputs.isEmpty()) throw UsageError{"no input files (see --help)"};
    o.outDir = p.value("out");
    auto& s = o.settings;
    s.model = p.value("name").toStdString();
    if (p.isSet("remote")) {
        o.remote.server = QUrl(p.value("remote"));
        o.remote.token = p.value("remote-token");
        if (!o.remote.enabled())
            throw UsageError{"--remote expects a server address such as http://host:8000"};
    } else if (p.isSet("repo")) {
        s.repo = p.value("repo").toStdString();  // used as it is, as demucs --repo
    } else {
        o.fromCache = true;
        o.source = modelSource(p);
        o.download = !p.isSet("no-download");
        s.repo = o.source.cache;
    }
    s.options.shifts = static_cast<int>(parseNumber(p.value("shifts"), "shifts"));
    s.options.overlap = parseNumber(p.value("overlap"), "overlap");
    if (p.isSet("segment")) s.options.segment = parseNumber(p.value("segment"), "segment");
    if (p.isSet("two-stems")) s.twoStems = p.value("two-stems").toStdString();
    s.otherMethod = p.value("other-method").toStdString();
    s.device = p.value("device").toStdString();
    s.precision = p.value("precision").toStdString();
    s.options.batchSize = static_cast<int>(parseNumber(p.value("batch"), "batch"));
    s.options.seed = static_cast<uint64_t>(parseNumber(p.value("seed"), "seed"));
    o.threads = static_cast<int>(parseNumber(p.value("jobs"), "jobs"));
    o.filenameTemplate = p.value("filename");
    o.copyTags = p.isSet("copy-tags");
    o.ytDlp = p.value("yt-dlp");

    if (p.isSet("int24") && p.isSet("float32"))
        throw UsageError{"--int24 and --float32 exclude each other"};
    if (p.isSet("flac") && p.isSet("mp3")) throw UsageError{"--flac and --mp3 exclude each other"};
    o.encode.format = p.isSet("mp3")    ? FileFormat::Mp3
                      : p.isSet("flac") ? FileFormat::Flac
                                        : FileFormat::Wav;
    o.encode.depth = p.isSet("float32") ? SampleFormat::Float32
                     : p.isSet("int24") ? SampleFormat::Int24
                                        : SampleFormat::Int16;
    if (o.encode.format == FileFormat::Flac && o.encode.depth == SampleFormat::Float32)
        throw UsageError{"FLAC cannot store 32-bit float; use --int24"};
    o.encode.mp3BitrateKbps = static_cast<int>(parseNumber(p.value("mp3-bitrate"), "mp3-bitrate"));
    o.encode.clip = parseClipMode(p.value("clip-mode"));
    if (p.isSet("stdout")) {
        o.toStdout = p.value("stdout");
        if (o.inputs.size() != 1) throw UsageError{"--stdout takes one input"};
        if (o.remote.enabled()) throw UsageError{"--stdout separates here, not with --remote"};
        if (o.encode.format != FileFormat::Wav) throw UsageError{"--stdout writes WAV only"};
        // Rescaling needs the whole stem's peak, which a stream cannot wait for.
        if (p.isSet("clip-mode") && o.encode.clip == ClipMode::Rescale)
            throw UsageError{
                "--stdout cannot rescale (it needs the whole stem): use clamp or none"};
        if (!p.isSet("clip-mode")) o.encode.clip = ClipMode::Clamp;
    }
    return -1;
}

// Whether nobody reads standard output any more (the other end of a pipe closed).
bool readerGone() {
    pollfd fd{STDOUT_FILENO, POLLOUT, 0};
    return poll(&fd, 1, 0) == 1 && (fd.revents & (POLLERR | POLLHUP)) != 0;
}

// Where one output stem goes while it is separated: straight into its file, or parked on disk
// when the whole stem decides its scale (--clip-mode rescale, as demucs: by its peak).
struct StemOutput {
    std::string target;
    std::unique_ptr<AudioWriter> writer;
    std::unique_ptr<FloatSpool> spool;
};

void separateOne(const LoadedModel& model, const Options& o, const QString& input) {
    const std::string path = input.toStdString();
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::string> names = outputStems(model, o.settings);
    const int C = model.separator->channels(), rate = model.separator->sampleRate();
    const AudioInfo probed = probeAudio(path);
    EncodeOptions encode = o.encode;
    if (o.copyTags) encode.tags = probed.tags;

    std::vector<StemOutput> outputs(names.size());
    size_t only = names.size();  // --stdout: the one stem written
    if (!o.toStdout.isEmpty()) {
        only =
            size_t(std::find(names.begin(), names.end(), o.toStdout.toStdString()) - names.begin());
        if (only == names.size()) {
            std::string all;
            for (const auto& n : names)
                all += (all.empty() ? "" : ", ") + n;
            throw Error(ErrorKind::InvalidInput, o.toStdout.toStdString(),
                        "not a stem of this separation (its stems: " + all + ")");
        }
        outputs[only].writer = std::make_unique<AudioWriter>("-", rate, C, encode);
    } else {
        const std::string outDir =
            QDir(o.outDir).filePath(QString::fromStdString(model.name)).toStdString();
        for (size_t k = 0; k < names.size(); ++k) {
            StemOutput& out = outputs[k];
            out.target = stemPath(outDir, o.filenameTemplate.toStdString(), path, names[k],
                                  extensionFor(encode.format));
            const QString folder = QFileInfo(QString::fromStdString(out.target)).absolutePath();
            if (!QDir().mkpath(folder))
                throw Error(ErrorKind::Io, folder.toStdString(), "cannot create the folder");
            if (encode.clip == ClipMode::Rescale)
                out.spool = std::make_unique<FloatSpool>(folder.toStdString(), C);
            else
                out.writer = std::make_unique<AudioWriter>(out.target, rate, C, encode);
        }
    }
    std::fprintf(stderr, "Separating %s (%s) with %s on %s\n",
                 qPrintable(QFileInfo(input).fileName()),
                 formatDuration(probed.durationSeconds).c_str(), model.name.c_str(),
                 model.deviceName.c_str());
    ProgressPrinter printer(QFileInfo(input).fileName().toStdString());
    // A stream's reader that went away is noticed at once (after the segment that runs), not
    // only at the next block written, which can be several segments later.
    const auto progress = [&](const engine::Progress& p) {
        if (!o.toStdout.isEmpty() && readerGone())
            throw Error(ErrorKind::Io, "standard output", "the reader went away");
        printer(p);
    };
    const AudioInfo info = separateFile(
        model, path, o.settings,
        [&](const float* stems, int64_t n) {
            for (size_t k = 0; k < outputs.size(); ++k) {
                const float* block = stems + int64_t(k) * C * n;
                if (outputs[k].writer) outputs[k].writer->write(block, n);
                if (outputs[k].spool) outputs[k].spool->append(block, n);
            }
        },
        {}, progress);
    printer.finish();

    for (StemOutput& out : outputs) {
        if (out.spool) encodeSpool(out.target, rate, *out.spool, encode);
        if (out.writer) out.writer->commit();
    }
    for (const StemOutput& out : outputs)
        if (!out.target.empty()) std::fprintf(stdout, "%s\n", out.target.c_str());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "Done in %.1f s (%.2fx real time)\n", seconds,
                 info.durationSeconds / seconds);
}

// Has the server separate `input` (a file or a web address), then writes its stems with the
// chosen format and names, as a local separation would.
void separateRemotely(const Options& o, const QString& input) {
    QTemporaryDir downloads;
    RemoteJob job(o.remote);
    QEventLoop loop;
    QString error;
    QStringList stems, files;
    QObject::connect(&job, &RemoteJob::progress, [&](double f, const QString& stage) {
        std::fprintf(stderr, "\r%-40s %5.1f%%", qPrintable(stage), 100 * f);
    });
    QObject::connect(&job, &RemoteJob::finished, [&](const QStringList& s, const QStringList& f) {
        stems = s;
        files = f;
        loop.quit();
    });
    QObject::connect(&job, &RemoteJob::failed, [&](const QString& e, bool) {
        error = e;
        loop.quit();
    });
    std::fprintf(stderr, "Separating %s on %s\n", qPrintable(input),
                 qPrintable(o.remote.server.toString(QUrl::RemoveUserInfo)));
    job.start(input, QString::fromStdString(o.settings.model), downloads.path());
    loop.exec();
    std::fprintf(stderr, "\n");
    if (!error.isEmpty()) throw Error(ErrorKind::Network, input.toStdString(), error.toStdString());
    const std::string outDir =
        QDir(o.outDir).filePath(QString::fromStdString(o.settings.model)).toStdString();
    const std::string track =
        isWebAddress(input) ? QUrl(input).fileName().toStdString() + ".url" : input.toStdString();
    for (int i = 0; i < stems.size(); ++i) {
        const AudioInfo info = probeAudio(files[i].toStdString());
        const AudioBuffer audio =
            decodeAudio(files[i].toStdString(), info.sampleRate, info.channels);
        const std::string target = stemPath(outDir, o.filenameTemplate.toStdString(), track,
                                            stems[i].toStdString(), extensionFor(o.encode.format));
        QDir().mkpath(QFileInfo(QString::fromStdString(target)).absolutePath());
        encodeAudio(target, audio, o.encode);
        std::fprintf(stdout, "%s\n", target.c_str());
    }
}

}  // namespace

int runSeparate(const QStringList& args) {
    Options o;
    try {
        if (const int status = parse(args, o); status >= 0) return status;
    } catch (const UsageError& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.message.c_str());
        return exit_code::kUsage;
    }
    LoadedModel model;
    try {
        if (o.fromCache) ensureModel(o.source, o.settings.model, o.download);
        engine::setThreads(o.threads);
        if (!o.remote.enabled()) model = loadSeparationModel(o.settings);
    } catch (const std::exception& e) {  // the app's Error, or LibTorch's while loading
        std::fprintf(stderr, "music-split-cli: %s\n", e.what());
        return exit_code::kFailed;
    }
    int failures = 0;
    for (const QString& input : o.inputs) {
        try {
            if (o.remote.enabled()) {
                separateRemotely(o, input);
                continue;
            }
            if (input.startsWith("http://") || input.startsWith("https://")) {
                // A web page or media URL: yt-dlp fetches the audio first (kept only meanwhile).
                QTemporaryDir downloads;
                YtDlpOptions yt;
                yt.program = o.ytDlp;
                std::fprintf(stderr, "Downloading %s\n", qPrintable(input));
                const QStringList files =
                    downloadWithYtDlp(input, downloads.path(), yt, [](const YtDlpProgress& p) {
                        if (p.fraction >= 0)
                            std::fprintf(stderr, "\rDownloading: %5.1f%% %s   ", 100 * p.fraction,
                                         qPrintable(p.speed));
                    });
                std::fprintf(stderr, "\n");
                for (const QString& f : files)
                    separateOne(model, o, f);
                continue;
            }
            separateOne(model, o, input);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "music-split-cli: %s\n", e.what());
            ++failures;
        }
    }
    return failures ? exit_code::kFailed : exit_code::kOk;
}

}  // namespace msplit::cli
