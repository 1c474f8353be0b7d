#include "app/server/api_server.h"
#include "app/server/url_guard.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QRegularExpression>
#include <QUuid>
#include <QtConcurrent/QtConcurrentRun>

#include <spdlog/spdlog.h>

#include "app/server/http_compat.h"
#include "app/server/mix_request.h"
#include "app/server/replies.h"
#include "app/server/request_gate.h"
#include "core/error.h"
#include "core/jobs/separation.h"
#include "core/log/logging.h"
#include "core/models/catalog.h"
#include "core/models/local_repo.h"
#include "core/web_address.h"
#include "core/ytdlp/ytdlp_runner.h"

namespace msplit::server {
namespace {

QStringList toList(const std::vector<std::string>& v) {
    QStringList out;
    for (const auto& s : v)
        out << QString::fromStdString(s);
    return out;
}

QJsonArray toArray(const std::vector<std::string>& v) {
    return QJsonArray::fromStringList(toList(v));
}

const char* methodName(QHttpServerRequest::Method m) {
    using M = QHttpServerRequest::Method;
    switch (m) {
        case M::Get:
            return "GET";
        case M::Post:
            return "POST";
        case M::Put:
            return "PUT";
        case M::Delete:
            return "DELETE";
        default:
            return "OTHER";
    }
}

// The mime type of an upload kept as input.EXT.
QByteArray audioMime(const QString& path) {
    static const QMap<QString, QByteArray> types = {{"wav", "audio/wav"},   {"mp3", "audio/mpeg"},
                                                    {"flac", "audio/flac"}, {"ogg", "audio/ogg"},
                                                    {"opus", "audio/ogg"},  {"m4a", "audio/mp4"},
                                                    {"aac", "audio/aac"},   {"webm", "audio/webm"}};
    return types.value(QFileInfo(path).suffix().toLower(), "application/octet-stream");
}

// The counters' route for a path the gate refused (a fixed set: paths are chosen by clients).
QString routeOf(const QString& path) {
    for (const char* route : {"/separate/youtube", "/separate", "/mix", "/status", "/download",
                              "/models", "/health", "/metrics", "/cleanup", "/internal"})
        if (path == route || path.startsWith(QString(route) + '/')) return route;
    return "other";
}

}  // namespace

ApiServer::ApiServer(const ServerOptions& options, QObject* parent)
    : QObject(parent), options_(options), catalog_(loadCatalog()), jobs_(options) {
    jobs_.load();
    connect(&jobs_, &ServerJobs::separationEnded, this,
            [this](const QString& outcome, double seconds) {
                metrics_.countSeparation(outcome, seconds);
            });
    connect(&jobs_, &ServerJobs::jobTimed, this,
            [this](double wait, double run) { metrics_.countJobTimes(wait, run); });
    addRoutes();
    if (jobs_.usesBroker()) addWorkerRoutes();
}

quint16 ApiServer::listen() {
    const QHostAddress address(options_.host == "localhost" ? "127.0.0.1" : options_.host);
    const qint64 upload = qint64(options_.maxUploadMb * 1e6), small = 1 << 20;
    RequestGate::Limits limits;
    // A worker's stem: at most the raw 24-bit stereo PCM of the longest song (FLAC is smaller).
    const qint64 stem = qint64(options_.maxDurationSeconds * 48000 * 2 * 3) + small;
    limits.body = [upload, small, stem](const QString& method, const QString& path) {
        if (method == "PUT" && path.startsWith("/internal/jobs/")) return stem;
        return method == "POST" && path == "/separate" ? upload : small;
    };
    limits.largestBody = std::max({upload, small, jobs_.usesBroker() ? stem : 0});
    limits.inFlight = 4 * limits.largestBody;  // four full uploads at once, then 503
    limits.tooLarge =
        tr("upload too large: this server takes at most %1 MB").arg(options_.maxUploadMb);
    // Uploads go to files as they arrive: never held in memory.
    limits.spool = [](const QString& method, const QString& path) {
        return (method == "POST" && path == "/separate") ||
               (method == "PUT" && path.startsWith("/internal/jobs/"));
    };
    limits.spoolFolder = jobs_.spoolFolder();
    auto* gate = new RequestGate(
        limits,
        [this](const QString& path, int status) { metrics_.countRequest(routeOf(path), status); },
        [this](const SpooledRequest& r) { return spooled(r); });
    const quint16 port = http::listen(http_, gate, address, static_cast<quint16>(options_.port));
    if (port) {
        QString advertise = options_.advertiseUrl;
        if (advertise.isEmpty()) {
            const bool any = address == QHostAddress::Any || address == QHostAddress::AnyIPv4 ||
                             address == QHostAddress::AnyIPv6;
            advertise = QString("http://%1:%2")
                            .arg(any ? QHostInfo::localHostName() : options_.host)
                            .arg(port);
        }
        jobs_.setAdvertiseUrl(advertise.endsWith('/') ? advertise.chopped(1) : advertise);
    }
    return port;
}

void ApiServer::addRoutes() {
    using M = QHttpServerRequest::Method;
    // The longer path first: a rule also matches when a longer path starts with it.
    http_.route("/separate/youtube", M::Post, [this](const QHttpServerRequest& r) {
        return serve("/separate/youtube", r, [&] { return separateYoutube(r); });
    });
    http_.route("/separate", M::Post,
                [this](const QHttpServerRequest& r) { return spooled(spool(r)); });
    http_.route("/status/<arg>", M::Get, [this](const QString& id, const QHttpServerRequest& r) {
        return serve("/status", r, [&] { return status(id); });
    });
    // The hosted service's download_template: by job id; 409 until it is done.
    http_.route("/download/status/<arg>/<arg>", M::Get,
                [this](const QString& id, const QString& stem, const QHttpServerRequest& r) {
                    return serve("/download", r, [&] {
                        const ServerJob* job = jobs_.job(id);
                        if (!job) return fault(Status::NotFound, tr("Job not found"));
                        if (job->status != "done")
                            return fault(Status::Conflict,
                                         tr("Job not finished (status=%1)").arg(job->status));
                        return download(job->session, stem);
                    });
                });
    http_.route("/device", M::Get, [this](const QHttpServerRequest& r) {
        return serve("/device", r, [&] { return device(); });
    });
    http_.route("/download/<arg>/<arg>", M::Get,
                [this](const QString& session, const QString& stem, const QHttpServerRequest& r) {
                    return serve("/download", r, [&] { return download(session, stem); });
                });
    http_.route("/models/<arg>", M::Get, [this](const QString& name, const QHttpServerRequest& r) {
        return serve("/models/name", r, [&] { return model(name); });
    });
    http_.route("/models", M::Get, [this](const QHttpServerRequest& r) {
        return serve("/models", r, [&] { return models(); });
    });
    http_.route("/health", M::Get, [this](const QHttpServerRequest& r) {
        return serve("/health", r, [&] { return health(); });
    });
    http_.route("/metrics", M::Get, [this](const QHttpServerRequest& r) {
        return serve("/metrics", r, [&] {
            Metrics::Gauges g;
            g.activeJobs = jobs_.activeCount();
            g.modelsLoaded = jobs_.modelsLoaded();
            g.broker = jobs_.usesBroker();
            if (g.broker) {
                const broker::QueueStats q = jobs_.queueStats();
                g.queued = q.waiting;
                g.taken = q.taken;
                g.workers = static_cast<int>(jobs_.workers().size());
            }
            return QHttpServerResponse("text/plain; version=0.0.4", metrics_.render(g));
        });
    });
    http_.route("/mix", M::Post, [this](const QHttpServerRequest& r) { return mix(r); });
    http_.route("/cleanup/<arg>", M::Delete,
                [this](const QString& session, const QHttpServerRequest& r) {
                    return serve("/cleanup", r, [&] {
                        if (!jobs_.cleanup(session))
                            return fault(Status::NotFound, tr("no session %1").arg(session));
                        return reply({{"status", "deleted"}, {"session_id", session}});
                    });
                });
}

ApiServer::Incoming ApiServer::incoming(const QHttpServerRequest& request) {
    return {QString::fromLatin1(methodName(request.method())), request.url().path(),
            request.value("X-Request-ID"), request.value("Authorization")};
}

ApiServer::Incoming ApiServer::incoming(const SpooledRequest& request) {
    return {request.method, request.path, request.header("X-Request-ID"),
            request.header("Authorization")};
}

QHttpServerResponse ApiServer::serve(const QString& route, const Incoming& request,
                                     const Handler& handler) {
    QElapsedTimer clock;
    clock.start();
    // The caller's X-Request-ID when it is a plain token (a proxy's), else a new one; it names
    // every log line of the request and comes back in the answer.
    static const QRegularExpression plainId("^[A-Za-z0-9._-]{1,64}$");
    QString id = QString::fromLatin1(request.requestId);
    if (!plainId.match(id).hasMatch()) id = QUuid::createUuid().toString(QUuid::Id128);
    const LogRequestId logId(id.toStdString());
    auto response = [&]() -> QHttpServerResponse {
        if (!authorized(request.authorization))
            return fault(Status::Unauthorized, tr("missing or wrong bearer token"));
        try {
            return handler();
        } catch (const std::exception& e) {
            spdlog::error("server: {} failed: {}", route.toStdString(), e.what());
            return fault(Status::InternalServerError, QString::fromUtf8(e.what()));
        }
    }();
    const int status = static_cast<int>(response.statusCode());
    const QString& method = request.method;
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    metrics_.countRequest(route, status);
    metrics_.observeRequest(method, route, seconds);
    http::setHeader(response, "X-Request-ID", id.toLatin1());
    spdlog::info("server: {} {} {} in {:.1f} ms", method.toStdString(), request.path.toStdString(),
                 status, seconds * 1e3);
    return response;
}

bool ApiServer::authorized(const QByteArray& authorization) const {
    return options_.token.isEmpty() || authorization == "Bearer " + options_.token.toUtf8();
}

QFuture<QHttpServerResponse> ApiServer::mix(const QHttpServerRequest& request) {
    auto now = [this](QHttpServerResponse r) {
        metrics_.countRequest("/mix", static_cast<int>(r.statusCode()));
        return http::readyResponse(std::move(r));
    };
    if (!authorized(request.value("Authorization")))
        return now(fault(Status::Unauthorized, tr("missing or wrong bearer token")));
    QJsonParseError err{};
    const QJsonObject body = QJsonDocument::fromJson(request.body(), &err).object();
    if (err.error != QJsonParseError::NoError)
        return now(
            fault(Status::BadRequest, tr("the body is not JSON: %1").arg(err.errorString())));
    const QString session = body["session_id"].toString();
    const ServerJob* job = jobs_.bySession(session);
    if (!job) return now(fault(Status::NotFound, tr("no session '%1'").arg(session)));
    if (job->status != "done")
        return now(fault(Status::Conflict,
                         tr("the separation is not done (status: %1)").arg(job->status)));
    StemSet stems;
    MixSettings settings;
    try {
        stems = stemsInFolder(job->resultFolder);
        settings = mixSettings(body, stems.names);
        checkMix(stems, settings);
    } catch (const Error& e) {
        return now(
            fault(e.kind() == ErrorKind::InvalidInput ? Status::BadRequest : Status::NotFound,
                  QString::fromUtf8(e.what())));
    }
    // A mix is held whole in memory to be answered (Qt's server takes a QByteArray): one at a
    // time, no longer than twice the longest song accepted, keeps that bounded.
    const double seconds =
        ((settings.to < 0 ? double(stems.frames) / std::max(1, stems.sampleRate) : settings.to) -
         settings.from) /
        settings.tempo;
    if (seconds > 2 * options_.maxDurationSeconds)
        return now(fault(Status::PayloadTooLarge,
                         tr("the mix would last %1 min; this server makes at most %2 min")
                             .arg(seconds / 60, 0, 'f', 1)
                             .arg(2 * options_.maxDurationSeconds / 60, 0, 'f', 1)));
    if (mixing_->load() > 0) {
        auto busy = fault(Status::TooManyRequests, tr("a mix is being made; try again later"));
        http::setHeader(busy, "Retry-After", "5");
        return now(std::move(busy));
    }
    // Written beside the stems (same disk), read back, removed: minutes of Rubber Band must not
    // hold up the other requests, so it runs on the thread pool.
    const QString target =
        job->resultFolder + "/.mix-" + QUuid::createUuid().toString(QUuid::Id128) + ".flac";
    QPointer<ApiServer> self(this);
    mixing_->fetch_add(1);
    return QtConcurrent::run([stems, settings, target, self, mixing = mixing_]() {
        struct Done {
            std::shared_ptr<std::atomic<int>> count;
            ~Done() { count->fetch_sub(1); }
        } done{mixing};
        QHttpServerResponse r = [&] {
            try {
                EncodeOptions flac;
                flac.format = FileFormat::Flac;
                flac.depth = SampleFormat::Int24;
                flac.clip = ClipMode::Clamp;  // as the player plays it: no whole-song rescale
                mixStems(stems, settings, target, flac);
                QFile f(target);
                if (!f.open(QIODevice::ReadOnly))
                    throw Error(ErrorKind::Io, target.toStdString(), "the mix went missing");
                QHttpServerResponse ok("audio/flac", f.readAll());
                http::setHeader(ok, "Content-Disposition", "attachment; filename=\"mix.flac\"");
                return ok;
            } catch (const Error& e) {
                return fault(Status::InternalServerError, QString::fromUtf8(e.what()));
            }
        }();
        QFile::remove(target);
        const int status = static_cast<int>(r.statusCode());
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, status] {
                if (self) self->metrics_.countRequest("/mix", status);
            },
            Qt::QueuedConnection);
        return r;
    });
}

std::vector<std::string> ApiServer::modelNames(
    const std::vector<broker::WorkerInfo>& workers) const {
    std::vector<std::string> names;
    try {
        names = LocalRepo(options_.repo.toStdString()).names();
    } catch (const Error&) {
        // no repository: without a broker the server is unavailable
    }
    for (const auto& w : workers)
        names.insert(names.end(), w.models.begin(), w.models.end());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

QJsonObject ApiServer::modelInfo(const std::string& name) const {
    auto it = info_.find(name);
    if (it != info_.end()) return it->second;
    QJsonArray stems;
    QString description;
    if (const CatalogModel* m = catalog_.find(name)) {
        stems = toArray(m->stems);
        description = QString::fromStdString(m->description);
    } else {  // a model of the repository only: its checkpoint says
        SeparationSettings s;
        s.repo = options_.repo.toStdString();
        s.model = name;
        s.device = "cpu";
        try {
            stems = toArray(loadSeparationModel(s).separator->sources());
        } catch (const Error&) {
            // Only a worker has it: no stems to tell, and not cached, so that a model later put
            // in this node's repository is read then.
            return QJsonObject{{"names", stems}, {"description", description}};
        }
    }
    return info_[name] = QJsonObject{{"names", stems}, {"description", description}};
}

std::optional<QHttpServerResponse> ApiServer::refuse(const QString& model) const {
    if (jobs_.usesBroker()) {
        if (const QString why = jobs_.brokerProblem(); !why.isEmpty())
            return fault(Status::ServiceUnavailable,
                         tr("the job queue is unavailable: %1").arg(why));
        // A catalog model, or one a worker or this node has. With no worker running (scale to
        // zero) any plain name waits for one; a worker without it hands the job on to one that
        // has it, or it fails saying so.
        static const QRegularExpression plain("^[A-Za-z0-9_.-]{1,64}$");
        const auto workers = jobs_.workers();
        const auto names = modelNames(workers);
        if (catalog_.find(model.toStdString()) ||
            std::find(names.begin(), names.end(), model.toStdString()) != names.end() ||
            (workers.empty() && plain.match(model).hasMatch()))
            return std::nullopt;
        return fault(
            Status::BadRequest,
            tr("unknown model '%1'; the workers have: %2").arg(model, toList(names).join(", ")));
    }
    const auto names = modelNames();
    if (names.empty())
        return fault(Status::ServiceUnavailable, tr("no models are installed on this server"));
    if (std::find(names.begin(), names.end(), model.toStdString()) == names.end())
        return fault(
            Status::BadRequest,
            tr("unknown model '%1'; this server has: %2").arg(model, toList(names).join(", ")));
    return std::nullopt;
}

std::optional<QHttpServerResponse> ApiServer::tooBusy() const {
    if (jobs_.activeCount() < options_.maxPending) return std::nullopt;
    auto r = fault(Status::TooManyRequests, tr("the server is busy; try again later"));
    http::setHeader(r, "Retry-After", "2");
    return r;
}

QHttpServerResponse ApiServer::accepted(const ServerJob& job) const {
    return reply({{"status", "accepted"},
                  {"job_id", job.id},
                  {"session_id", job.session},
                  {"status_url", "/status/" + job.id},
                  {"download_template", "/download/" + job.session + "/{stem}"}});
}

QHttpServerResponse ApiServer::separateYoutube(const QHttpServerRequest& request) {
    if (auto no = tooBusy()) return std::move(*no);
    QJsonParseError err{};
    const QJsonObject o = QJsonDocument::fromJson(request.body(), &err).object();
    if (err.error != QJsonParseError::NoError)
        return fault(Status::BadRequest, tr("the body is not JSON: %1").arg(err.errorString()));
    const QString url = o["url"].toString();
    if (!isWebAddress(url))
        return fault(Status::BadRequest, tr("'url' must be an http(s) address"));
    if (const QString why = options_.allowPrivateUrls ? QString() : refusedUrl(url); !why.isEmpty())
        return fault(Status::BadRequest, tr("refused: %1").arg(why));
    const QString modelName = o["model_name"].toString("htdemucs");
    if (auto no = refuse(modelName)) return std::move(*no);
    const QString id = jobs_.create(modelName).id;
    jobs_.startUrl(id, url);
    return accepted(*jobs_.job(id));
}

QHttpServerResponse ApiServer::status(const QString& id) const {
    const ServerJob* job = jobs_.job(id);
    if (!job) return fault(Status::NotFound, tr("no job %1").arg(id));
    QJsonObject o = job->toJson();
    for (const char* internal :
         {"input", "source_url", "result_folder", "token", "message_id", "attempt"})
        o.remove(internal);
    // "stems" keeps the model's order, which the "result" object loses.
    QJsonObject result;
    for (const QString& stem : job->stems)
        result[stem] = "/download/" + job->session + "/" + stem;
    o["result"] = result;
    o["progress"] = job->progress;
    return reply(o);
}

QHttpServerResponse ApiServer::download(const QString& session, const QString& stem) const {
    const ServerJob* job = jobs_.bySession(session);
    if (!job) return fault(Status::NotFound, tr("no session %1").arg(session));
    if (stem == "original" && !job->stems.contains(stem)) {  // the song as it was sent
        QFile f(job->input);
        if (job->input.isEmpty() || !f.open(QIODevice::ReadOnly))
            return fault(Status::NotFound, tr("the original of session %1 is gone").arg(session));
        QHttpServerResponse r(audioMime(job->input), f.readAll());
        http::setHeader(
            r, "Content-Disposition",
            "attachment; filename=\"original." + QFileInfo(job->input).suffix().toLatin1() + "\"");
        return r;
    }
    if (!job->stems.contains(stem))
        return fault(Status::NotFound, tr("no stem '%1' in session %2").arg(stem, session));
    QFile f(job->stemFile(stem));
    if (!f.open(QIODevice::ReadOnly))
        return fault(Status::NotFound, tr("the file of stem '%1' is gone").arg(stem));
    QHttpServerResponse r("audio/flac", f.readAll());
    http::setHeader(r, "Content-Disposition",
                    "attachment; filename=\"" + stem.toUtf8() + ".flac\"");
    return r;
}

QHttpServerResponse ApiServer::device() const {
    QJsonObject o;
    if (jobs_.usesBroker()) {  // the workers separate: each says which device it uses
        QJsonArray workers;
        for (const auto& w : jobs_.workers())
            workers.append(QJsonObject{{"name", QString::fromStdString(w.name)},
                                       {"device", QString::fromStdString(w.device)}});
        o["device"] = "workers";
        o["workers"] = workers;
        return reply(o);
    }
    const std::string setting =
        options_.device.isEmpty() ? engine::kDefaultDevice : options_.device.toStdString();
    o["device"] = QString::fromStdString(
        setting == "auto" ? (engine::meansGpu(setting) ? "cuda" : "cpu") : setting);
    try {
        o["description"] = QString::fromStdString(engine::describeDevice(setting));
    } catch (const Error& e) {
        o["description"] = QString::fromUtf8(e.what());
    }
    return reply(o);
}

QHttpServerResponse ApiServer::models() const {
    const auto names = modelNames();
    QJsonObject details;
    for (const auto& n : names)
        details[QString::fromStdString(n)] = modelInfo(n);
    return reply({{"models", toArray(names)},
                  {"total", static_cast<int>(names.size())},
                  {"details", details}});
}

QHttpServerResponse ApiServer::model(const QString& name) const {
    const auto names = modelNames();
    if (std::find(names.begin(), names.end(), name.toStdString()) == names.end())
        return fault(Status::NotFound, tr("no model '%1'").arg(name));
    QJsonObject o = modelInfo(name.toStdString());
    o["name"] = name;
    return reply(o);
}

QHttpServerResponse ApiServer::health() const {
    const auto workers = jobs_.workers();
    const auto names = modelNames(workers);
    QJsonObject o{{"models", static_cast<int>(names.size())},
                  {"active_jobs", jobs_.activeCount()},
                  {"max_pending", options_.maxPending},
                  {"version", MUSIC_SPLIT_VERSION}};
    bool healthy = !names.empty();
    if (jobs_.usesBroker()) {
        // The node works while Redis answers, with or without workers (jobs wait for one).
        const QString problem = jobs_.brokerProblem();
        healthy = problem.isEmpty();
        o["broker"] = healthy ? QString("ok") : problem;
        o["workers"] = static_cast<int>(workers.size());
        const broker::QueueStats q = jobs_.queueStats();
        o["queued"] = static_cast<double>(q.waiting);
    }
    o["status"] = healthy ? "healthy" : "unavailable";
    return reply(o, healthy ? Status::Ok : Status::ServiceUnavailable);
}

}  // namespace msplit::server
