#pragma once
// The fields of a multipart/form-data request body (an upload), read with Poco's MIME reader.
#include <QByteArray>
#include <QMap>
#include <QString>

namespace msplit::server {

struct FormField {
    QString fileName;  // empty for a plain field
    QByteArray data;
};

// Throws Error (InvalidInput) when the content type is not multipart/form-data with a boundary,
// or the body is not well formed.
QMap<QString, FormField> parseMultipartForm(const QByteArray& contentType, const QByteArray& body);

}  // namespace msplit::server
