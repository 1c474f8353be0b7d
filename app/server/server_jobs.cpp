#include "app/server/server_jobs.h"

#include <QDir>
#include <QFile>
#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QUrl>
#include <QUuid>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "app/server/url_guard.h"
#include "core/audio/decoder.h"
#include "core/error.h"
#include "core/jobs/job_config.h"
#include "core/ytdlp/ytdlp_runner.h"

namespace msplit::server {
namespace {

QString newId() {
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

// 256 random bits from the system's generator, as hex: a job's key for the worker routes.
QByteArray randomKey() {
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()), 8);
    return bytes.toHex();
}

QJsonValue timeJson(const QDateTime& t) {
    return t.isValid() ? QJsonValue(t.toUTC().toString(Qt::ISODateWithMs)) : QJsonValue();
}

}  // namespace

QJsonObject ServerJob::toJson() const {
    return {{"job_id", id},
            {"session_id", session},
            {"model", model},
            {"status", status},
            {"submitted_at", timeJson(submitted)},
            {"started_at", timeJson(started)},
            {"finished_at", timeJson(finished)},
            {"error", error.isEmpty() ? QJsonValue() : QJsonValue(error)},
            {"input", input},
            {"source_url", sourceUrl},
            {"stems", QJsonArray::fromStringList(stems)},
            {"result_folder", resultFolder},
            {"token", token},
            {"message_id", messageId},
            {"worker", worker},
            {"attempt", attempt}};
}

ServerJob ServerJob::fromJson(const QJsonObject& o) {
    ServerJob j;
    j.id = o["job_id"].toString();
    j.session = o["session_id"].toString();
    j.model = o["model"].toString();
    j.status = o["status"].toString();
    j.submitted = QDateTime::fromString(o["submitted_at"].toString(), Qt::ISODateWithMs);
    j.started = QDateTime::fromString(o["started_at"].toString(), Qt::ISODateWithMs);
    j.finished = QDateTime::fromString(o["finished_at"].toString(), Qt::ISODateWithMs);
    j.error = o["error"].toString();
    j.input = o["input"].toString();
    j.sourceUrl = o["source_url"].toString();
    for (const QJsonValue& v : o["stems"].toArray())
        j.stems << v.toString();
    j.resultFolder = o["result_folder"].toString();
    j.token = o["token"].toString();
    j.messageId = o["message_id"].toString();
    j.worker = o["worker"].toString();
    j.attempt = o["attempt"].toString();
    return j;
}

ServerJobs::ServerJobs(const ServerOptions& options, QObject* parent)
    : QObject(parent), options_(options) {
    // The header's length is checked first; maxSeconds also stops a song that lied.
    queue_.setConfig(serviceJobConfig(options.repo, options.device, options.threads, options.shifts,
                                      options.overlap, options.maxDurationSeconds));
    connect(&queue_, &JobQueue::itemChanged, this, &ServerJobs::onQueueChanged);
    connect(&queue_, &JobQueue::itemFinished, this, &ServerJobs::onQueueFinished);
    // Checked a few times per keeping period, at least every 10 minutes.
    const double keepMs = options.keepHours * 3600e3;
    expiry_.setInterval(static_cast<int>(std::clamp(keepMs / 4, 250.0, 600e3)));
    connect(&expiry_, &QTimer::timeout, this, &ServerJobs::expire);
    expiry_.start();
    if (!options.broker.isEmpty()) {
        // Short: the API node asks Redis while answering a request.
        redis_ = std::make_unique<broker::RedisClient>(
            broker::parseRedisUrl(options.broker, options.brokerPasswordFile), 2000);
        stream_ = std::make_unique<broker::JobStream>(*redis_);
    }
}

void ServerJobs::expire() {
    const QDateTime limit =
        QDateTime::currentDateTimeUtc().addMSecs(-static_cast<qint64>(options_.keepHours * 3600e3));
    QStringList old;
    for (const auto& [id, job] : jobs_)
        if (!job.active() && job.finished.isValid() && job.finished < limit) old << job.session;
    for (const QString& session : old)
        cleanup(session);
    if (!old.isEmpty()) spdlog::info("jobs: {} expired", old.size());
}

ServerJobs::~ServerJobs() = default;

QString ServerJobs::folder(const QString& id) const {
    return options_.jobsDir + "/" + id;
}

QString ServerJobs::spoolFolder() const {
    return options_.jobsDir + "/.spool";
}

void ServerJobs::load() {
    // Uploads cut short by a stop (even kill -9) were never jobs.
    QDir(spoolFolder()).removeRecursively();
    const QDir dir(options_.jobsDir);
    for (const QString& name : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(dir.filePath(name) + "/job.json");
        if (!f.open(QIODevice::ReadOnly)) continue;
        ServerJob job = ServerJob::fromJson(QJsonDocument::fromJson(f.readAll()).object());
        if (job.id != name || job.session.isEmpty()) {
            spdlog::warn("jobs: skipping {}: unreadable job.json", name.toStdString());
            continue;
        }
        // With a broker a queued job is the workers' and goes on; one never queued is lost.
        if (job.active() && !(stream_ && !job.messageId.isEmpty())) {
            job.status = "error";
            job.error = tr("interrupted: the server stopped before the job finished");
            job.finished = QDateTime::currentDateTimeUtc();
            // What it had written is of no use now (partial stems, the upload): only the record
            // stays, to answer the client.
            for (const QFileInfo& f :
                 QDir(folder(job.id))
                     .entryInfoList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot))
                if (f.fileName() != "job.json")
                    f.isDir() ? QDir(f.filePath()).removeRecursively()
                              : QFile::remove(f.filePath());
            job.input.clear();
            save(job);
        }
        jobs_[job.id] = job;
    }
    spdlog::info("jobs: {} loaded from {}", jobs_.size(), options_.jobsDir.toStdString());
    expire();
}

int ServerJobs::activeCount() const {
    int n = 0;
    for (const auto& [id, job] : jobs_)
        n += job.active() ? 1 : 0;
    return n;
}

const ServerJob* ServerJobs::job(const QString& id) const {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : &it->second;
}

const ServerJob* ServerJobs::bySession(const QString& session) const {
    for (const auto& [id, job] : jobs_)
        if (job.session == session) return &job;
    return nullptr;
}

ServerJob& ServerJobs::create(const QString& model) {
    ServerJob job;
    job.id = newId();
    job.session = newId();
    job.model = model;
    job.submitted = QDateTime::currentDateTimeUtc();
    if (!QDir().mkpath(folder(job.id)))
        throw Error(ErrorKind::Io, folder(job.id).toStdString(), "cannot create the job folder");
    return jobs_[job.id] = job;
}

QString ServerJobs::start(const QString& id, const QString& input) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return tr("no job %1").arg(id);
    ServerJob& job = it->second;
    job.input = input;
    if (stream_) {
        job.token = QString::fromLatin1(randomKey());
        const broker::StreamJob s = streamEntry(job);
        try {
            stream_->ensureGroup();  // Redis may have restarted empty
            job.messageId = QString::fromStdString(stream_->add(s));
        } catch (const Error& e) {
            const QString why = tr("cannot queue the job: %1").arg(QString::fromUtf8(e.what()));
            fail(id, why);
            return why;
        }
        save(job);
        return {};
    }
    JobConfig config = queue_.config();
    config.separation.model = job.model.toStdString();
    config.libraryRoot = folder(id) + "/stems";
    queue_.setConfig(config);
    running_[queue_.enqueue(input, job.sourceUrl)] = id;
    save(job);
    return {};
}

void ServerJobs::startUrl(const QString& id, const QString& url) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    it->second.sourceUrl = url;
    save(it->second);
    auto* runner = new YtDlpRunner(this);
    connect(runner, &YtDlpRunner::finished, this,
            [this, id, runner](const QStringList& files, const QString& error) {
                runner->deleteLater();
                downloads_.erase(id);
                if (!jobs_.count(id)) return;  // cleaned up meanwhile
                if (!error.isEmpty() || files.isEmpty())
                    return fail(id, error.isEmpty() ? tr("yt-dlp wrote no file") : error);
                try {
                    const double seconds = probeAudio(files.first().toStdString()).durationSeconds;
                    if (seconds > options_.maxDurationSeconds)
                        return fail(id, tr("audio too long: %1 s, this server takes at most %2 s")
                                            .arg(seconds, 0, 'f', 0)
                                            .arg(options_.maxDurationSeconds));
                } catch (const Error& e) {
                    return fail(id, QString::fromStdString(e.reason()));
                }
                start(id, files.first());
            });
    YtDlpOptions yt;
    yt.program = options_.ytDlp;
    yt.maxSeconds = options_.maxDurationSeconds;
    yt.maxMb = options_.maxUploadMb;
    downloads_[id] = runner;
    if (options_.allowPrivateUrls) {
        runner->start(url, folder(id), yt);
        return;
    }
    // The host's addresses must all be public: a name can point at the server's own network.
    const QString host = QUrl(url).host();
    QHostInfo::lookupHost(host, runner, [this, id, url, yt, runner](const QHostInfo& info) {
        if (!jobs_.count(id) || downloads_.count(id) == 0) return;  // cleaned up meanwhile
        QString why;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty())
            why = tr("cannot resolve %1").arg(info.hostName());
        for (const QHostAddress& a : info.addresses())
            if (!isPublicAddress(a))
                why = tr("%1 resolves to %2, not a public address (start the server with "
                         "--allow-private-urls to fetch from it)")
                          .arg(info.hostName(), a.toString());
        if (!why.isEmpty()) {
            downloads_.erase(id);
            runner->deleteLater();
            return fail(id, tr("refused: %1").arg(why));
        }
        runner->start(url, folder(id), yt);
    });
}

bool ServerJobs::cleanup(const QString& session) {
    const ServerJob* job = bySession(session);
    if (!job) return false;
    const QString id = job->id;
    bool separating = false;
    for (auto it = running_.begin(); it != running_.end(); ++it)
        if (it->second == id) {
            queue_.cancel(it->first);
            separating = true;
        }
    if (auto d = downloads_.find(id); d != downloads_.end()) {  // only this job's yt-dlp
        d->second->disconnect(this);
        d->second->cancel();
        d->second->deleteLater();
        downloads_.erase(d);
    }
    if (stream_ && job->active() && !job->messageId.isEmpty()) {
        // Taken out of the queue; a worker running it learns at its next report (404).
        try {
            stream_->remove(job->messageId.toStdString());
        } catch (const Error& e) {
            spdlog::warn("jobs: {} stays in the queue: {}", id.toStdString(), e.what());
        }
    }
    jobs_.erase(id);
    // A separation still writing in the folder stops at its next segment: the folder goes when
    // it has (onQueueFinished), not under its feet.
    if (separating)
        deleteWhenStopped_.insert(id);
    else
        QDir(folder(id)).removeRecursively();
    return true;
}

void ServerJobs::fail(const QString& id, const QString& error) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    it->second.error = error;
    finish(it->second, "error");
    Q_EMIT separationEnded("error", 0);
}

void ServerJobs::finish(ServerJob& job, const QString& status) {
    job.status = status;
    job.finished = QDateTime::currentDateTimeUtc();
    if (status == "done") job.progress = 1;
    if (!job.started.isValid() && status == "done") job.started = job.submitted;
    if (job.started.isValid())
        Q_EMIT jobTimed(job.submitted.msecsTo(job.started) / 1e3,
                        job.started.msecsTo(job.finished) / 1e3);
    // The upload stays with the session (GET /download/SESSION/original) until it is cleaned up.
    save(job);
}

void ServerJobs::save(const ServerJob& job) const {
    QSaveFile f(folder(job.id) + "/job.json");
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(job.toJson()).toJson()) < 0 ||
        !f.commit())
        spdlog::error("jobs: cannot write {}: {}", f.fileName().toStdString(),
                      f.errorString().toStdString());
}

void ServerJobs::onQueueChanged(int queueId) {
    auto r = running_.find(queueId);
    const JobQueue::Item* item = queue_.item(queueId);
    if (r == running_.end() || !item) return;
    auto it = jobs_.find(r->second);
    if (it == jobs_.end()) return;
    ServerJob& job = it->second;
    job.progress = item->progress;
    if (item->state == JobQueue::State::Running && job.status == "pending") {
        job.status = "running";
        job.started = QDateTime::currentDateTimeUtc();
        save(job);
    }
}

void ServerJobs::onQueueFinished(int queueId) {
    auto r = running_.find(queueId);
    if (r == running_.end()) return;
    const QString id = r->second;
    running_.erase(r);
    const JobQueue::Item item = *queue_.item(queueId);
    queue_.remove(queueId);
    if (deleteWhenStopped_.erase(id)) QDir(folder(id)).removeRecursively();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;  // cleaned up while it ran
    ServerJob& job = it->second;
    if (item.state != JobQueue::State::Done)
        return fail(id, item.state == JobQueue::State::Cancelled ? tr("cancelled") : item.error);
    job.stems = item.result.stems;
    job.resultFolder = item.result.folder;
    finish(job, "done");
    Q_EMIT separationEnded("done", item.result.separationSeconds);
}

}  // namespace msplit::server
