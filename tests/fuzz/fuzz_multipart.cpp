// The server's upload parser: the first line is the Content-Type header, the rest the body. File
// fields go to a spool folder and are removed with the parsed form.
#include <QByteArray>
#include <QTemporaryDir>

#include <cstdint>
#include <sstream>

#include "app/server/multipart_form.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const QTemporaryDir spool;
    const QByteArray all(reinterpret_cast<const char*>(data), qsizetype(size));
    const qsizetype eol = all.indexOf('\n');
    const QByteArray type = eol < 0 ? all : all.left(eol);
    const QByteArray body = eol < 0 ? QByteArray() : all.mid(eol + 1);
    try {
        std::istringstream in(body.toStdString());
        const auto form = msplit::server::parseMultipartForm(type, in, body.size(), spool.path());
        (void)form.size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
