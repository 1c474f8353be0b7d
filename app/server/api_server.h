#pragma once
// The Music Split REST API on QHttpServer: uploads and YouTube links in, job status, FLAC stems
// out, mixes of them, model list, health and metrics. Limits answer with the service's status codes
// (400, 401, 404, 413, 429, 503); errors carry {"detail": "..."} like the FastAPI service does.
#include <QFuture>
#include <QHttpServer>
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QObject>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/server/metrics.h"
#include "app/server/request_gate.h"
#include "app/server/server_jobs.h"
#include "app/server/server_options.h"
#include "core/models/catalog.h"

namespace msplit::server {

class ApiServer : public QObject {
    Q_OBJECT
public:
    explicit ApiServer(const ServerOptions& options, QObject* parent = nullptr);
    // Returns the port listened on (the given one, or a free one for port 0); 0 on failure.
    quint16 listen();

private:
    using Handler = std::function<QHttpServerResponse()>;
    // What serve() reads of a request, from Qt's server or from the gate's spooled uploads.
    struct Incoming {
        QString method, path;
        QByteArray requestId, authorization;
    };
    static Incoming incoming(const QHttpServerRequest& request);
    static Incoming incoming(const SpooledRequest& request);
    void addRoutes();
    void addWorkerRoutes();  // with a broker (worker_routes.cpp)
    // Runs `handler` when `token` is job `id`'s key (X-Job-Token), else 404.
    QHttpServerResponse forWorker(
        const QString& id, const QByteArray& token,
        const std::function<QHttpServerResponse(const ServerJob&)>& handler);
    // Checks the token, runs the handler and counts the reply under `route`.
    QHttpServerResponse serve(const QString& route, const Incoming& request,
                              const Handler& handler);
    QHttpServerResponse serve(const QString& route, const QHttpServerRequest& request,
                              const Handler& handler) {
        return serve(route, incoming(request), handler);
    }
    // An upload the gate wrote to a spool file: POST /separate or a worker's stem.
    QHttpServerResponse spooled(const SpooledRequest& request);
    // A body Qt's server read (a kept-alive connection's later request whose head came in
    // pieces), put in a spool file to be served as the gate's are.
    SpooledRequest spool(const QHttpServerRequest& request) const;
    QHttpServerResponse separateUpload(const SpooledRequest& request);
    // PUT /internal/jobs/ID/stems/STEM (worker_routes.cpp).
    QHttpServerResponse storeStem(const QString& id, const QString& stem,
                                  const SpooledRequest& request);
    QHttpServerResponse separateYoutube(const QHttpServerRequest& request);
    QHttpServerResponse status(const QString& id) const;
    QHttpServerResponse download(const QString& session, const QString& stem) const;
    QHttpServerResponse models() const;
    // GET /device: where separations run ({"device": "cuda"|"cpu"|..., "description"}).
    QHttpServerResponse device() const;
    QHttpServerResponse model(const QString& name) const;
    QHttpServerResponse health() const;
    // POST /mix: the session's stems mixed (off the server's thread) into a 24-bit FLAC.
    QFuture<QHttpServerResponse> mix(const QHttpServerRequest& request);
    bool authorized(const QByteArray& authorization) const;
    // 400/503/429 checks shared by both ways of submitting; empty when the job may go on.
    std::optional<QHttpServerResponse> refuse(const QString& model) const;
    std::optional<QHttpServerResponse> tooBusy() const;  // 429 at --max-pending
    QHttpServerResponse accepted(const ServerJob& job) const;
    // The local repository's models, and with a broker those of the live workers.
    std::vector<std::string> modelNames() const { return modelNames(jobs_.workers()); }
    // The same with the live workers already read (one Redis round trip per request).
    std::vector<std::string> modelNames(const std::vector<broker::WorkerInfo>& workers) const;
    // {"names": stems, "description"}: from the catalog, else from the model's checkpoint.
    QJsonObject modelInfo(const std::string& model) const;

    ServerOptions options_;
    Catalog catalog_;  // the built-in one, for stems and descriptions
    QHttpServer http_;
    ServerJobs jobs_;
    Metrics metrics_;
    std::shared_ptr<std::atomic<int>> mixing_ = std::make_shared<std::atomic<int>>(0);  // mixes
    mutable std::map<std::string, QJsonObject> info_;  // model -> modelInfo, cached
};

}  // namespace msplit::server
