#include "app/server/multipart_form.h"

#include <Poco/Exception.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>

#include "core/error.h"

namespace msplit::server {
namespace {

constexpr qint64 kPlainField = 1 << 20;  // a model name or an option, not a file

[[noreturn]] void malformed(const std::string& why = {}) {
    throw Error(ErrorKind::InvalidInput, "",
                why.empty() ? "malformed multipart upload" : "malformed multipart upload: " + why);
}

}  // namespace

QMap<QString, FormField> parseMultipartForm(const QByteArray& contentType, std::istream& body,
                                            qint64 bodySize, const QString& spoolFolder) {
    std::string type;
    Poco::Net::NameValueCollection params;
    Poco::Net::MessageHeader::splitParameters(contentType.toStdString(), type, params);
    if (Poco::icompare(type, "multipart/form-data") != 0 || !params.has("boundary"))
        throw Error(ErrorKind::InvalidInput, "", "expected a multipart/form-data upload");
    QMap<QString, FormField> fields;
    int parts = 0;
    try {
        Poco::Net::MultipartReader reader(body, params.get("boundary"));
        while (reader.hasNextPart()) {
            if (++parts > 100) malformed("too many parts");  // a form has a few fields
            Poco::Net::MessageHeader header;
            reader.nextPart(header);
            std::string disposition;
            Poco::Net::NameValueCollection dispParams;
            Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""),
                                                      disposition, dispParams);
            FormField field;
            field.fileName = QString::fromStdString(dispParams.get("filename", ""));
            const bool isFile = dispParams.has("filename");
            if (isFile) {
                field.file = std::make_shared<SpoolFile>(spoolFolder);
                if (!field.file->ok())
                    throw Error(ErrorKind::Io, spoolFolder.toStdString(),
                                "cannot store the upload (disk full?)");
            }
            // Read by hand, bounded: on a part cut short (no closing boundary) Poco's part stream
            // neither ends nor fails, so a plain copy would spin forever (found by libFuzzer).
            std::istream& part = reader.stream();
            char chunk[1 << 16];
            for (;;) {
                part.read(chunk, sizeof chunk);
                const auto n = static_cast<qint64>(part.gcount());
                if (n == 0) break;
                field.size += n;
                if (field.size > bodySize) malformed();
                if (!isFile) {
                    if (field.size > kPlainField) malformed("a plain field is over 1 MB");
                    field.data.append(chunk, n);
                } else if (!field.file->write(chunk, n)) {
                    throw Error(ErrorKind::Io, field.file->path().toStdString(),
                                "cannot store the upload (disk full?)");
                }
            }
            if (!part.eof()) malformed();
            const QString name = QString::fromStdString(dispParams.get("name", ""));
            if (!name.isEmpty()) fields[name] = std::move(field);  // else not a form field
        }
    } catch (const Poco::Exception& e) {
        malformed(e.displayText());
    }
    return fields;
}

}  // namespace msplit::server
