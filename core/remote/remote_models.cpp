#include "core/remote/remote_models.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

#include "core/error.h"

namespace msplit {

RemoteModels::RemoteModels(RemoteConfig config, QObject* parent)
    : QObject(parent), config_(std::move(config)) {}

QList<RemoteModel> RemoteModels::parse(const QByteArray& json) {
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (!o["models"].isArray())
        throw Error(ErrorKind::InvalidInput, "", "the server's model list is not readable");
    const QJsonObject details = o["details"].toObject();
    QList<RemoteModel> out;
    for (const QJsonValue& v : o["models"].toArray()) {
        RemoteModel m;
        m.name = v.toString();
        if (m.name.isEmpty()) continue;
        const QJsonObject d = details[m.name].toObject();
        for (const QJsonValue& s : d["names"].toArray())
            m.stems << s.toString();
        m.description = d["description"].toString();
        out << m;
    }
    return out;
}

void RemoteModels::fetch() {
    QNetworkReply* reply = net_.get(remoteRequest(config_, "/models"));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const QString error = remoteReplyError(config_, reply, tr("listing its models"));
        if (!error.isEmpty()) return Q_EMIT failed(error);
        try {
            Q_EMIT ready(parse(reply->readAll()));
        } catch (const Error& e) {
            Q_EMIT failed(QString::fromStdString(e.reason()));
        }
    });
}

}  // namespace msplit
