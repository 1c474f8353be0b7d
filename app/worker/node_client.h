#pragma once
// A worker's side of one job's routes on the API node (see app/server/worker_routes.cpp): fetch the
// song, upload the stems, report. Blocking calls (a local event loop) for the worker's one thread;
// every request carries the job's key.
#include <QByteArray>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QString>

namespace msplit::worker {

class NodeClient {
public:
    NodeClient(QString api, QByteArray token) : api_(std::move(api)), token_(std::move(token)) {}

    struct Result {
        int status = 0;  // 0: no HTTP answer (node down, timeout)
        QString error;   // the node's detail, or the network's error
        bool ok() const { return status >= 200 && status < 300; }
        // Worth trying again later: the node could not be reached or was not ready.
        bool transient() const { return status == 0 || status >= 500; }
        // The stream entry may go: the node has what it needs, or the job is deleted (404) or
        // ended (410). Not on 409: another worker's attempt owns the job and its entry.
        bool settled() const { return ok() || status == 404 || status == 410; }
    };

    Result report(const QJsonObject& report);
    // Like report(), tried again with growing waits for up to `seconds` while transient.
    Result reportPatiently(const QJsonObject& report, int seconds);
    Result fetchInput(const QString& path);
    Result putStem(const QString& stem, const QString& attempt, const QString& path);

private:
    Result finish(class QNetworkReply* reply, class QIODevice* sink = nullptr);

    QString api_;
    QByteArray token_;
    QNetworkAccessManager net_;
};

}  // namespace msplit::worker
