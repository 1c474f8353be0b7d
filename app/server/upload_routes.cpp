// Uploads: the requests whose bodies the gate wrote to spool files (or, for a kept-alive
// connection's later request, Qt's server read and spool() writes out), and POST /separate.
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <fstream>

#include <spdlog/spdlog.h>

#include "app/server/api_server.h"
#include "app/server/multipart_form.h"
#include "app/server/replies.h"
#include "core/audio/decoder.h"
#include "core/error.h"

namespace msplit::server {
namespace {

// The upload's extension, kept so FFmpeg can use it as a hint; nothing else of the name is used.
QString inputName(const QString& uploadName) {
    const QString ext = QFileInfo(uploadName).suffix().toLower();
    static const QRegularExpression plain("^[a-z0-9]{1,8}$");
    return plain.match(ext).hasMatch() ? "input." + ext : "input";
}

}  // namespace

SpooledRequest ApiServer::spool(const QHttpServerRequest& request) const {
    SpooledRequest out;
    const Incoming in = incoming(request);
    out.method = in.method;
    out.path = in.path;
    for (const QByteArray name :
         {"content-type", "x-request-id", "authorization", "x-job-token", "x-attempt"})
        if (const QByteArray value = request.value(name); !value.isEmpty())
            out.headers.insert(name, value);
    const QByteArray body = request.body();
    out.body = std::make_shared<SpoolFile>(jobs_.spoolFolder());
    out.size = body.size();
    if (!out.body->write(body.constData(), body.size()) || !out.body->file().flush())
        out.body.reset();
    return out;
}

QHttpServerResponse ApiServer::spooled(const SpooledRequest& r) {
    if (r.method == "POST" && r.path == "/separate")
        return serve("/separate", incoming(r), [&] { return separateUpload(r); });
    // PUT /internal/jobs/ID/stems/STEM
    const QStringList parts = r.path.split('/');
    if (jobs_.usesBroker() && r.method == "PUT" && parts.size() == 6 && parts[1] == "internal" &&
        parts[2] == "jobs" && parts[4] == "stems")
        return storeStem(parts[3], parts[5], r);
    metrics_.countRequest("other", 404);
    return fault(Status::NotFound, tr("no such route"));
}

QHttpServerResponse ApiServer::separateUpload(const SpooledRequest& request) {
    if (auto no = tooBusy()) return std::move(*no);
    if (!request.body)  // Qt's server had it, and it could not be written out
        return fault(Status::ServiceUnavailable, tr("cannot store the upload (disk full?)"));
    if (double(request.size) > options_.maxUploadMb * 1e6)
        return fault(
            Status::PayloadTooLarge,
            tr("upload too large: this server takes at most %1 MB").arg(options_.maxUploadMb));
    QMap<QString, FormField> form;
    try {
        std::ifstream body(QFile::encodeName(request.body->path()).toStdString(), std::ios::binary);
        form = parseMultipartForm(request.header("Content-Type"), body, request.size,
                                  jobs_.spoolFolder());
    } catch (const Error& e) {
        return fault(e.kind() == ErrorKind::Io ? Status::ServiceUnavailable : Status::BadRequest,
                     QString::fromStdString(e.reason()));
    }
    if (!form.contains("file") || form["file"].size == 0 || !form["file"].file)
        return fault(Status::BadRequest, tr("the upload has no 'file' field"));
    const QString modelName =
        form.contains("model_name") ? QString::fromUtf8(form["model_name"].data) : "htdemucs";
    if (auto no = refuse(modelName)) return std::move(*no);
    metrics_.observeUpload(double(form["file"].size));

    const ServerJob& job = jobs_.create(modelName);
    const QString id = job.id, session = job.session;
    const QString input = jobs_.folder(id) + "/" + inputName(form["file"].fileName);
    if (!form["file"].file->moveTo(input)) {
        jobs_.cleanup(session);
        return fault(Status::ServiceUnavailable, tr("cannot store the upload (disk full?)"));
    }
    try {
        const double seconds = probeAudio(input.toStdString()).durationSeconds;
        if (seconds > options_.maxDurationSeconds) {
            jobs_.cleanup(session);
            return fault(Status::PayloadTooLarge,
                         tr("audio too long: %1 s, this server takes at most %2 s")
                             .arg(seconds, 0, 'f', 0)
                             .arg(options_.maxDurationSeconds));
        }
    } catch (const Error& e) {
        jobs_.cleanup(session);
        return fault(Status::BadRequest,
                     tr("not a readable audio file: %1").arg(QString::fromStdString(e.reason())));
    }
    if (const QString why = jobs_.start(id, input); !why.isEmpty()) {
        jobs_.cleanup(session);
        return fault(Status::ServiceUnavailable, why);
    }
    spdlog::info("server: job {} accepted ({}, {} bytes)", id.toStdString(),
                 modelName.toStdString(), request.size);
    return accepted(*jobs_.job(id));
}

}  // namespace msplit::server
