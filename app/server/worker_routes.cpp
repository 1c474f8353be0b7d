// The routes music-split-worker uses with a broker: fetch a job's song, hand back its stems, and
// report. They are not behind --token: each job has its own key (X-Job-Token), given only in the
// job's stream entry, so a worker can touch no other job and clients none of these.
#include <QFile>
#include <QJsonDocument>

#include <spdlog/spdlog.h>

#include "app/server/api_server.h"
#include "app/server/replies.h"
#include "core/error.h"

namespace msplit::server {

void ApiServer::addWorkerRoutes() {
    using M = QHttpServerRequest::Method;
    http_.route("/internal/jobs/<arg>/input", M::Get,
                [this](const QString& id, const QHttpServerRequest& r) {
                    return forWorker(id, r.value("X-Job-Token"), [&](const ServerJob& job) {
                        QFile f(job.input);
                        if (job.input.isEmpty() || !f.open(QIODevice::ReadOnly))
                            return fault(Status::NotFound, tr("the song is gone"));
                        return QHttpServerResponse("application/octet-stream", f.readAll());
                    });
                });
    // Stems come through the gate's spool (ApiServer::spooled); this is for a kept-alive
    // connection's later request whose head the gate did not see whole.
    http_.route("/internal/jobs/<arg>/stems/<arg>", M::Put,
                [this](const QString& id, const QString& stem, const QHttpServerRequest& r) {
                    return storeStem(id, stem, spool(r));
                });
    http_.route("/internal/jobs/<arg>/report", M::Post,
                [this](const QString& id, const QHttpServerRequest& r) {
                    return forWorker(id, r.value("X-Job-Token"), [&](const ServerJob&) {
                        QJsonParseError err{};
                        const QJsonObject o = QJsonDocument::fromJson(r.body(), &err).object();
                        if (err.error != QJsonParseError::NoError)
                            return fault(Status::BadRequest, tr("the body is not JSON"));
                        const ServerJobs::Answer a = jobs_.report(id, o);
                        if (a.status == 200) return reply({{"ok", true}});
                        return fault(static_cast<Status>(a.status), a.detail);
                    });
                });
}

QHttpServerResponse ApiServer::storeStem(const QString& id, const QString& stem,
                                         const SpooledRequest& r) {
    return forWorker(id, r.header("X-Job-Token"), [&](const ServerJob&) {
        if (!r.body)
            return fault(Status::ServiceUnavailable, tr("cannot store the stem (disk full?)"));
        try {
            jobs_.storeStem(id, QString::fromUtf8(r.header("X-Attempt")), stem, *r.body);
        } catch (const Error& e) {
            return fault(e.kind() == ErrorKind::Io ? Status::ServiceUnavailable : Status::Conflict,
                         QString::fromUtf8(e.what()));
        }
        return reply({{"stored", stem}});
    });
}

QHttpServerResponse ApiServer::forWorker(
    const QString& id, const QByteArray& token,
    const std::function<QHttpServerResponse(const ServerJob&)>& handler) {
    const ServerJob* job = jobs_.forWorker(id, token);
    QHttpServerResponse r =
        job ? handler(*job) : fault(Status::NotFound, tr("no such job, or a wrong key"));
    metrics_.countRequest("/internal", static_cast<int>(r.statusCode()));
    return r;
}

}  // namespace msplit::server
