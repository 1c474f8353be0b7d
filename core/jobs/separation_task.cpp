#include "core/jobs/separation_task.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/audio/float_spool.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/file_names.h"

namespace msplit {

SeparationTask::SeparationTask(QString source, QString sourceUrl, JobConfig config,
                               ModelProvider models, TaskCallbacks callbacks)
    : source_(std::move(source)),
      sourceUrl_(std::move(sourceUrl)),
      config_(std::move(config)),
      models_(std::move(models)),
      cb_(std::move(callbacks)) {}

void SeparationTask::run() {
#ifdef __linux__
    // A lower priority for this thread and the engine threads it starts (they inherit it): the
    // UI thread wins the cores whenever it has work, so the window never stutters.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 5);
#endif
    if (cancel_.cancelled()) {  // cancelled while it waited in the queue
        cb_.failed(QObject::tr("Cancelled"), true);
        return;
    }
    const Library library(config_.libraryRoot);
    QString temp, id;
    try {
        temp = library.beginJob(QFileInfo(source_).completeBaseName(), &id);
        cb_.done(library.commitJob(temp, separate(temp, id)));
    } catch (const engine::Cancelled&) {
        library.abandonJob(temp);
        cb_.failed(QObject::tr("Cancelled"), true);
    } catch (const Error& e) {
        library.abandonJob(temp);
        const bool cancelled = e.kind() == ErrorKind::Cancelled;
        cb_.failed(cancelled ? QObject::tr("Cancelled") : QString::fromUtf8(e.what()), cancelled);
    } catch (const std::exception& e) {  // engine errors and anything unexpected
        library.abandonJob(temp);
        cb_.failed(QString::fromUtf8(e.what()), false);
    }
}

JobRecord SeparationTask::separate(const QString& temp, const QString& id) {
    QElapsedTimer clock;
    clock.start();
    const SeparationSettings& s = config_.separation;
    cb_.progress(0, -1, QObject::tr("Loading model"));
    engine::setThreads(config_.threads);
    const LoadedModel model = models_(s);

    // The song streams through the engine (memory does not grow with it): the stems are parked
    // on disk as they come, where the track view can play them at once, then written with one
    // gain for all of them (only applied to stay below 0 dBFS; one gain keeps them summing to
    // the mix). Float files need no gain. Waveform peaks are made on the way and kept.
    const bool floatFiles = config_.format == "wav32f";
    // Stem names come from the model file: as file names they must stay in the job's folder.
    std::vector<std::string> names = outputStems(model, s);
    for (auto& name : names)
        name = safeFileName(QString::fromStdString(name)).toStdString();
    const int C = model.separator->channels(), rate = model.separator->sampleRate();
    EncodeOptions enc;
    enc.format = floatFiles ? FileFormat::Wav : FileFormat::Flac;
    enc.depth = floatFiles ? SampleFormat::Float32 : SampleFormat::Int24;
    enc.clip = ClipMode::None;
    const std::string ext = floatFiles ? "wav" : "flac";
    const AudioInfo probed = probeAudio(source_.toStdString());
    JobRecord r;
    r.id = id;
    r.source = source_;
    r.title = QString::fromStdString(probed.tags.count("title") ? probed.tags.at("title") : "");
    if (r.title.isEmpty()) r.title = QFileInfo(source_).completeBaseName();
    r.sourceUrl = sourceUrl_;
    if (!sourceUrl_.isEmpty())  // yt-dlp names files "TITLE [ID]"
        r.title.remove(QRegularExpression(" \\[[A-Za-z0-9_-]+\\]$"));
    for (const auto& name : names)
        r.stems << QString::fromStdString(name);
    // Each stem's file carries the song's tags, titled after the stem.
    const auto tagsFor = [&](size_t k) {
        auto tags = probed.tags;
        tags["title"] = r.title.toStdString() + " (" + names[k] + ")";
        return tags;
    };
    std::vector<std::shared_ptr<FloatSpool>> spools;
    for (size_t k = 0; k < names.size(); ++k)
        spools.push_back(std::make_shared<FloatSpool>(temp.toStdString(), C));
    // The original's peaks: room for the header's length and some, cut to what is read.
    auto mixPeaks = std::make_shared<PeakCache>(
        static_cast<int64_t>((probed.durationSeconds * 1.1 + 10) * rate));
    int64_t songFrames = 0;
    std::vector<std::shared_ptr<PeakCache>> peaks;
    std::shared_ptr<LiveSong> live;
    bool published = false;
    cb_.progress(0, -1, QObject::tr("Reading"));
    // Reading gets 0 .. 0.02 of the bar, the separation 0.02 .. 0.95, writing the rest.
    const AudioInfo info = separateFile(
        model, source_.toStdString(), s,
        [&](const float* stems, int64_t n) {
            if (!live) {  // the first frames: the song can be played from now on
                mixPeaks->finish();
                live = std::make_shared<LiveSong>();
                live->title = r.title;
                live->source = source_;
                live->stems = r.stems;
                live->frames = songFrames;
                live->mixPeaks = mixPeaks;
                for (size_t k = 0; k < names.size(); ++k) {
                    peaks.push_back(std::make_shared<PeakCache>(songFrames));
                    live->peaks.push_back(peaks.back());
                    live->spools.push_back(spools[k]);
                }
            }
            for (size_t k = 0; k < names.size(); ++k) {
                const float* block = stems + int64_t(k) * C * n;
                spools[k]->append(block, n);
                peaks[k]->append(block, C, n);
            }
            if (!published && cb_.live) {  // once, after its first frames are in
                published = true;
                cb_.live(live);
            }
        },
        [this](double f) {
            cb_.progress(0.02 * f, -1, QObject::tr("Reading"));
            return !cancel_.cancelled();
        },
        [this](const engine::Progress& p) {
            cb_.progress(0.02 + 0.93 * p.fraction(), p.etaSeconds, QObject::tr("Separating"));
        },
        &cancel_,
        [&](const float* mix, int64_t n) {
            mixPeaks->append(mix, C, n);
            songFrames += n;
        });
    float peak = 0;
    for (const auto& spool : spools)
        peak = std::max(peak, spool->peak());
    const double gain = !floatFiles && peak * 1.01f > 1.0f ? 1.0 / (1.01 * peak) : 1.0;

    r.model = QString::fromStdString(model.name);
    r.extension = QString::fromStdString(ext);
    r.durationSeconds = info.durationSeconds;
    r.gain = gain;
    const QString folder = temp;
    QDir(folder).mkpath(".waveform");
    mixPeaks->save(JobRecord::peaksFile(folder, {}).toStdString());
    for (size_t k = 0; k < names.size(); ++k) {
        enc.tags = tagsFor(k);
        AudioWriter writer(temp.toStdString() + "/" + names[k] + "." + ext, rate, C, enc);
        std::vector<float> scaled;
        spools[k]->replay([&](const float* block, int64_t n) {
            if (cancel_.cancelled()) throw engine::Cancelled();
            scaled.assign(block, block + C * n);
            if (gain != 1.0)
                for (float& x : scaled)
                    x = static_cast<float>(x * gain);
            writer.write(scaled.data(), n);
        });
        writer.commit();
        peaks[k]->finish();
        peaks[k]->save(JobRecord::peaksFile(folder, r.stems[int(k)]).toStdString());
        cb_.progress(0.95 + 0.05 * double(k + 1) / double(names.size()), 0,
                     QObject::tr("Writing stems"));
    }
    r.separationSeconds = double(clock.elapsed()) / 1000.0;
    r.created = QDateTime::currentDateTime();
    r.settings = {{"shifts", s.options.shifts},
                  {"overlap", s.options.overlap},
                  {"segment", s.options.segment ? *s.options.segment : 0.0},
                  {"device", QString::fromStdString(model.deviceName)},
                  {"format", config_.format}};
    return r;
}

}  // namespace msplit
