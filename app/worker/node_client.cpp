#include "app/worker/node_client.h"

#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QSaveFile>
#include <QThread>

#include <algorithm>

namespace msplit::worker {
namespace {

QNetworkRequest request(const QString& url, const QByteArray& token) {
    QNetworkRequest r{QUrl(url)};
    r.setRawHeader("X-Job-Token", token);
    r.setTransferTimeout(120000);  // a stalled node, not a slow one
    return r;
}

}  // namespace

NodeClient::Result NodeClient::finish(QNetworkReply* reply, QIODevice* sink) {
    QEventLoop loop;
    if (sink)
        QObject::connect(reply, &QNetworkReply::readyRead, reply, [reply, sink] {
            if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200 &&
                sink->write(reply->readAll()) < 0)
                reply->abort();
        });
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    if (!reply->isFinished()) loop.exec();
    Result r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray rest = reply->readAll();
    if (sink && r.status == 200 && sink->write(rest) < 0) r.status = 0;
    if (!r.ok()) {
        r.error = QJsonDocument::fromJson(rest).object()["detail"].toString();
        if (r.error.isEmpty()) r.error = reply->errorString();
    }
    reply->deleteLater();
    return r;
}

NodeClient::Result NodeClient::report(const QJsonObject& report) {
    QNetworkRequest r = request(api_ + "/report", token_);
    r.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
    return finish(net_.post(r, QJsonDocument(report).toJson(QJsonDocument::Compact)));
}

NodeClient::Result NodeClient::reportPatiently(const QJsonObject& r, int seconds) {
    Result result;
    for (int waited = 0, pause = 1;; waited += pause, pause = std::min(pause * 2, 15)) {
        result = report(r);
        if (!result.transient() || waited >= seconds) return result;
        QThread::sleep(static_cast<unsigned long>(pause));
    }
}

NodeClient::Result NodeClient::fetchInput(const QString& path) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return {0, file.errorString()};
    Result r = finish(net_.get(request(api_ + "/input", token_)), &file);
    if (r.ok() && !file.commit()) return {0, file.errorString()};
    return r;
}

NodeClient::Result NodeClient::putStem(const QString& stem, const QString& attempt,
                                       const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {0, file.errorString()};
    QNetworkRequest r = request(api_ + "/stems/" + stem, token_);
    r.setRawHeader("X-Attempt", attempt.toUtf8());
    r.setHeader(QNetworkRequest::ContentTypeHeader, "audio/flac");
    return finish(net_.put(r, &file));
}

}  // namespace msplit::worker
