// ServerJobs with a broker: the API node's side of the workers' protocol (see job_stream.h).
// A worker reports "started" (it owns the job from then on), "progress", and "done" or "error";
// a worker without the job's model reports "refused" and the job is queued again for another.
#include <QCryptographicHash>
#include <QDir>
#include <QJsonArray>
#include <QRegularExpression>

#include <spdlog/spdlog.h>

#include "app/server/server_jobs.h"
#include "core/error.h"

namespace msplit::server {
namespace {

bool plainName(const QString& s) {
    static const QRegularExpression re("^[A-Za-z0-9_-]{1,64}$");
    return re.match(s).hasMatch();
}

// Constant time: a key must not be guessed a byte at a time from response times.
bool sameKey(const QByteArray& a, const QByteArray& b) {
    if (a.size() != b.size() || a.isEmpty()) return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace

QString ServerJobs::brokerProblem() const {
    if (!redis_) return {};
    try {
        redis_->command({"PING"});
        return {};
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
}

std::vector<broker::WorkerInfo> ServerJobs::workers() const {
    if (!stream_) return {};
    try {
        return stream_->workers();
    } catch (const Error&) {
        return {};
    }
}

broker::QueueStats ServerJobs::queueStats() const {
    if (!stream_) return {};
    try {
        return stream_->stats();
    } catch (const Error&) {
        return {};
    }
}

const ServerJob* ServerJobs::forWorker(const QString& id, const QByteArray& token) const {
    const ServerJob* j = job(id);
    return j && sameKey(j->token.toLatin1(), token) ? j : nullptr;
}

broker::StreamJob ServerJobs::streamEntry(const ServerJob& job) const {
    broker::StreamJob s;
    s.job = job.id.toStdString();
    s.model = job.model.toStdString();
    s.api = (advertiseUrl_ + "/internal/jobs/" + job.id).toStdString();
    s.token = job.token.toStdString();
    return s;
}

QString ServerJobs::attemptFolder(const QString& id, const QString& attempt) const {
    // The attempt is the worker's text: only its hash names a folder.
    return folder(id) + "/attempt-" +
           QCryptographicHash::hash(attempt.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
}

void ServerJobs::storeStem(const QString& id, const QString& attempt, const QString& stem,
                           SpoolFile& data) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !it->second.active() || it->second.attempt != attempt)
        throw Error(ErrorKind::InvalidInput, stem.toStdString(), "not the job's current attempt");
    if (!plainName(stem)) throw Error(ErrorKind::InvalidInput, {}, "not a stem name");
    const QString dir = attemptFolder(id, attempt);
    const QString target = dir + "/" + stem + ".flac";
    if (!QDir().mkpath(dir) || !data.moveTo(target))
        throw Error(ErrorKind::Io, target.toStdString(), "cannot store the stem (disk full?)");
}

ServerJobs::Answer ServerJobs::report(const QString& id, const QJsonObject& r) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return {404, tr("the job was deleted")};
    ServerJob& job = it->second;
    const QString state = r["state"].toString(), attempt = r["attempt"].toString();
    // 404 deleted, 410 ended, 409 another attempt owns it: a worker removes the stream entry on
    // the first two only (the entry is the owner's otherwise).
    if (!job.active()) return {410, tr("the job has ended (%1)").arg(job.status)};
    if (state == "started") {
        if (attempt.isEmpty()) return {400, tr("no attempt")};
        job.status = "running";
        job.worker = r["worker"].toString().left(200);
        job.attempt = attempt;
        job.progress = 0;
        if (!job.started.isValid()) job.started = QDateTime::currentDateTimeUtc();
        save(job);
        spdlog::info("jobs: {} taken by {} (attempt {})", id.toStdString(),
                     job.worker.toStdString(), attempt.toStdString());
        return {};
    }
    if (state == "refused") {
        if (job.status == "running") return {409, tr("another worker has taken this job")};
        // Queued again, naming every worker that lacks the model; failed once all live ones do.
        QStringList refused = r["refused_by"].toVariant().toStringList();
        std::vector<std::string> names;
        for (const QString& n : refused)
            names.push_back(n.toStdString());
        bool someoneHasIt = false;
        for (const auto& w : workers())
            if (std::find(names.begin(), names.end(), w.name) == names.end() &&
                std::find(w.models.begin(), w.models.end(), job.model.toStdString()) !=
                    w.models.end())
                someoneHasIt = true;
        if (!someoneHasIt) {
            fail(id,
                 tr("no worker has the model '%1' (asked: %2)").arg(job.model, refused.join(", ")));
            return {410, job.error};
        }
        broker::StreamJob s = streamEntry(job);
        s.refusedBy = names;
        try {
            job.messageId = QString::fromStdString(stream_->add(s));
        } catch (const Error& e) {
            return {503, QString::fromUtf8(e.what())};
        }
        job.status = "pending";
        job.worker.clear();
        save(job);
        return {};
    }
    if (attempt != job.attempt) return {409, tr("another worker has taken this job")};
    if (state == "progress") {
        job.progress = std::clamp(r["progress"].toDouble(), 0.0, 1.0);
        return {};
    }
    if (state == "error") {
        fail(id, r["error"].toString(tr("the worker failed")).left(2000));
        return {};
    }
    if (state != "done") return {400, tr("unknown state '%1'").arg(state)};
    QStringList stems;
    for (const QJsonValue& v : r["stems"].toArray())
        stems << v.toString();
    const QString from = attemptFolder(id, attempt), to = folder(id) + "/stems";
    if (stems.isEmpty()) return {400, tr("no stems")};
    for (const QString& stem : stems)
        if (!plainName(stem) || !QFile::exists(from + "/" + stem + ".flac"))
            return {400, tr("stem '%1' was not uploaded").arg(stem)};
    QDir(to).removeRecursively();
    if (!QDir().rename(from, to)) return {500, tr("cannot keep the stems")};
    // Any other attempt's files are of no use now.
    for (const QFileInfo& d : QDir(folder(id)).entryInfoList({"attempt-*"}, QDir::Dirs))
        QDir(d.filePath()).removeRecursively();
    job.stems = stems;
    job.resultFolder = to;
    finish(job, "done");
    Q_EMIT separationEnded("done", r["seconds"].toDouble());
    return {};
}

}  // namespace msplit::server
