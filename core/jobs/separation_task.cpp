#include "core/jobs/separation_task.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/engine/engine.h"
#include "core/error.h"

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

    cb_.progress(0, -1, QObject::tr("Decoding"));
    AudioInfo info;
    const AudioBuffer mix = decodeAudio(source_.toStdString(), model.separator->sampleRate(),
                                        model.separator->channels(), &info,
                                        [this](double) { return !cancel_.cancelled(); });
    // Separation is nearly all of the time: it gets 0.02 .. 0.95 of the bar.
    auto stems = separateAudio(
        model, mix, s,
        [this](const engine::Progress& p) {
            cb_.progress(0.02 + 0.93 * p.fraction(), p.etaSeconds, QObject::tr("Separating"));
        },
        &cancel_);

    // One gain for every stem keeps them summing to the mix; only applied to stay below 0 dBFS.
    float peak = 0;
    for (const auto& st : stems)
        for (float x : st.audio.samples)
            peak = std::max(peak, std::abs(x));
    const bool floatFiles = config_.format == "wav32f";
    const double gain = !floatFiles && peak * 1.01f > 1.0f ? 1.0 / (1.01 * peak) : 1.0;
    EncodeOptions enc;
    enc.format = floatFiles ? FileFormat::Wav : FileFormat::Flac;
    enc.depth = floatFiles ? SampleFormat::Float32 : SampleFormat::Int24;
    enc.clip = ClipMode::None;
    enc.tags = info.tags;
    JobRecord r;
    r.id = id;
    r.source = source_;
    r.title = QString::fromStdString(info.tags.count("title") ? info.tags.at("title") : "");
    if (r.title.isEmpty()) r.title = QFileInfo(source_).completeBaseName();
    r.sourceUrl = sourceUrl_;
    if (!sourceUrl_.isEmpty())  // yt-dlp names files "TITLE [ID]"
        r.title.remove(QRegularExpression(" \\[[A-Za-z0-9_-]+\\]$"));
    r.model = QString::fromStdString(model.name);
    r.extension = floatFiles ? "wav" : "flac";
    r.durationSeconds = info.durationSeconds > 0 ? info.durationSeconds : mix.seconds();
    r.gain = gain;
    for (size_t i = 0; i < stems.size(); ++i) {
        auto& st = stems[i];
        if (gain != 1.0)
            for (float& x : st.audio.samples)
                x = static_cast<float>(x * gain);
        r.stems << QString::fromStdString(st.name);
        enc.tags["title"] = r.title.toStdString() + " (" + st.name + ")";
        encodeAudio(temp.toStdString() + "/" + st.name + "." + r.extension.toStdString(), st.audio,
                    enc, [this](double) { return !cancel_.cancelled(); });
        cb_.progress(0.95 + 0.05 * double(i + 1) / double(stems.size()), 0,
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
