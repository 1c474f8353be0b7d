#pragma once
// The fields of a multipart/form-data request body (an upload), read with Poco's MIME reader from
// a stream: plain fields are kept in memory, file fields go to spool files as they are read, so
// an upload is never held whole in memory.
#include <QByteArray>
#include <QMap>
#include <QString>

#include <istream>
#include <memory>

#include "app/server/spool_file.h"

namespace msplit::server {

struct FormField {
    QString fileName;                 // the client's name for a file field; empty for a plain one
    QByteArray data;                  // a plain field's value
    std::shared_ptr<SpoolFile> file;  // a file field's content, removed with the last copy
    qint64 size = 0;                  // bytes of either
};

// `body` holds at most `bodySize` bytes. Throws Error: InvalidInput when the content type is not
// multipart/form-data with a boundary, the body is not well formed or a plain field passes 1 MB;
// Io when a file field cannot be written to `spoolFolder` (disk full).
QMap<QString, FormField> parseMultipartForm(const QByteArray& contentType, std::istream& body,
                                            qint64 bodySize, const QString& spoolFolder);

}  // namespace msplit::server
