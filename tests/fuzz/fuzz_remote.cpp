// What a remote server answers, read by the client: a job status and a model list.
#include <QByteArray>

#include <cstdint>

#include "core/error.h"
#include "core/remote/remote_job.h"
#include "core/remote/remote_models.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray body(reinterpret_cast<const char*>(data), qsizetype(size));
    const msplit::RemoteStatus st = msplit::readRemoteStatus(body, "/download/s/{stem}");
    // The names it gives become file names: none may hold a folder separator or start a dot.
    for (const QString& stem : st.stems)
        if (stem.contains('/') || stem.startsWith('.') || stem.isEmpty()) __builtin_trap();
    try {
        (void)msplit::RemoteModels::parse(body).size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
