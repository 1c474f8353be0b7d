#pragma once
// JSON answers of the server; errors carry {"detail": "..."} as the FastAPI service's do.
#include <QHttpServerResponse>
#include <QJsonObject>
#include <QString>

namespace msplit::server {

using Status = QHttpServerResponse::StatusCode;

inline QHttpServerResponse reply(const QJsonObject& body, Status status = Status::Ok) {
    return QHttpServerResponse(body, status);
}

inline QHttpServerResponse fault(Status status, const QString& detail) {
    return reply({{"detail", detail}}, status);
}

}  // namespace msplit::server
