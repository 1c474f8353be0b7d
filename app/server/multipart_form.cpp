#include "app/server/multipart_form.h"

#include <Poco/Exception.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>

#include <sstream>

#include "core/error.h"

namespace msplit::server {

QMap<QString, FormField> parseMultipartForm(const QByteArray& contentType, const QByteArray& body) {
    std::string type;
    Poco::Net::NameValueCollection params;
    Poco::Net::MessageHeader::splitParameters(contentType.toStdString(), type, params);
    if (Poco::icompare(type, "multipart/form-data") != 0 || !params.has("boundary"))
        throw Error(ErrorKind::InvalidInput, "", "expected a multipart/form-data upload");
    QMap<QString, FormField> fields;
    int parts = 0;
    try {
        std::istringstream in(body.toStdString());
        Poco::Net::MultipartReader reader(in, params.get("boundary"));
        while (reader.hasNextPart()) {
            Poco::Net::MessageHeader header;
            reader.nextPart(header);
            std::string disposition;
            Poco::Net::NameValueCollection dispParams;
            Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""),
                                                      disposition, dispParams);
            // Read by hand, bounded: on a part cut short (no closing boundary) Poco's part stream
            // neither ends nor fails, so a plain copy would spin forever (found by libFuzzer).
            std::string data;
            std::istream& part = reader.stream();
            char chunk[1 << 16];
            for (;;) {
                part.read(chunk, sizeof chunk);
                const auto n = static_cast<size_t>(part.gcount());
                if (n == 0) break;
                data.append(chunk, n);
                if (data.size() > size_t(body.size()))
                    throw Error(ErrorKind::InvalidInput, "", "malformed multipart upload");
            }
            if (!part.eof()) throw Error(ErrorKind::InvalidInput, "", "malformed multipart upload");
            if (++parts > 100)  // a form has a few fields; a spinning reader has no end
                throw Error(ErrorKind::InvalidInput, "",
                            "malformed multipart upload: too many parts");
            const QString name = QString::fromStdString(dispParams.get("name", ""));
            if (name.isEmpty()) continue;  // not a form field
            fields[name] = {QString::fromStdString(dispParams.get("filename", "")),
                            QByteArray::fromStdString(data)};
        }
    } catch (const Poco::Exception& e) {
        throw Error(ErrorKind::InvalidInput, "", "malformed multipart upload: " + e.displayText());
    }
    return fields;
}

}  // namespace msplit::server
