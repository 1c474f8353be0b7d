#pragma once
// What a Music Split server offers (GET /models): model names and their stems, for the window's
// model picker in remote mode.
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QStringList>

#include "core/remote/remote_job.h"

namespace msplit {

struct RemoteModel {
    QString name;
    QStringList stems;
    QString description;
};

class RemoteModels : public QObject {
    Q_OBJECT
public:
    explicit RemoteModels(RemoteConfig config, QObject* parent = nullptr);
    void fetch();

    // Reads a /models answer; throws Error (InvalidInput) when it is not one.
    static QList<RemoteModel> parse(const QByteArray& json);

Q_SIGNALS:
    void ready(const QList<msplit::RemoteModel>& models);
    void failed(const QString& error);

private:
    RemoteConfig config_;
    QNetworkAccessManager net_;
};

}  // namespace msplit
