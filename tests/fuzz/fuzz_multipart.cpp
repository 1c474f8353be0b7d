// The server's upload parser: the first line is the Content-Type header, the rest the body.
#include <QByteArray>

#include <cstdint>

#include "app/server/multipart_form.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray all(reinterpret_cast<const char*>(data), qsizetype(size));
    const qsizetype eol = all.indexOf('\n');
    const QByteArray type = eol < 0 ? all : all.left(eol);
    const QByteArray body = eol < 0 ? QByteArray() : all.mid(eol + 1);
    try {
        const auto form = msplit::server::parseMultipartForm(type, body);
        (void)form.size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
