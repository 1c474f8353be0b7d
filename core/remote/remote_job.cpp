#include "core/remote/remote_job.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHttpMultiPart>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QNetworkReply>
#include <QSaveFile>
#include <QTimeZone>

#include <algorithm>

#include "core/file_names.h"
#include "core/web_address.h"

namespace msplit {
namespace {

// Share of the progress bar: upload, then the server's work, then the downloads.
constexpr double kUploadShare = 0.15, kServerShare = 0.75;

int httpStatus(QNetworkReply* r) {
    return r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

// Seconds to wait from a Retry-After header: a number, or an HTTP date.
int retryAfterSeconds(const QByteArray& header, int fallback) {
    bool ok = false;
    const int s = header.trimmed().toInt(&ok);
    if (ok) return std::max(0, s);
    const QDateTime when = QLocale::c().toDateTime(QString::fromLatin1(header.trimmed()),
                                                   "ddd, dd MMM yyyy hh:mm:ss 'GMT'");
    if (when.isValid()) {
        // The date and time read, in UTC (setTimeSpec() is deprecated in Qt 6.8).
        const QDateTime utc(when.date(), when.time(), QTimeZone::utc());
        // Rounded up: the date has whole seconds, and waiting too little gets another 429.
        const qint64 ms = QDateTime::currentDateTimeUtc().msecsTo(utc);
        return std::max(0, static_cast<int>((ms + 999) / 1000));
    }
    return fallback;
}

// The server's explanation: FastAPI's {"detail": ...} (a string, or a list of problems).
QString detailOf(const QByteArray& body) {
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    const QJsonValue d = o.contains("detail") ? o["detail"] : o["error"];
    if (d.isString()) return d.toString();
    if (d.isArray() || d.isObject())
        return QString::fromUtf8(d.isArray()
                                     ? QJsonDocument(d.toArray()).toJson(QJsonDocument::Compact)
                                     : QJsonDocument(d.toObject()).toJson(QJsonDocument::Compact));
    return QString::fromUtf8(body.left(200)).simplified();
}

// The extension for an audio file's first bytes: wav, mp3, ogg, or flac (also for what is not
// recognised: the decoder reads by content anyway).
QString audioExtension(const QString& path) {
    QFile f(path);
    const QByteArray head = f.open(QIODevice::ReadOnly) ? f.read(4) : QByteArray();
    if (head == "RIFF" || head == "RF64" || head == "BW64") return "wav";
    if (head.startsWith("ID3") ||
        (head.size() >= 2 && uchar(head[0]) == 0xFF && (uchar(head[1]) & 0xE0) == 0xE0))
        return "mp3";
    if (head == "OggS") return "ogg";
    return "flac";
}

}  // namespace

RemoteStatus readRemoteStatus(const QByteArray& body, const QString& downloadTemplate) {
    RemoteStatus st;
    QJsonParseError err{};
    const QJsonObject o = QJsonDocument::fromJson(body, &err).object();
    st.state = o["status"].toString();
    if (err.error != QJsonParseError::NoError || st.state.isEmpty()) {
        st.problem = RemoteJob::tr("The server's job status is not readable JSON.");
    } else if (st.state == "error") {
        st.problem = RemoteJob::tr("The server could not separate the song: %1")
                         .arg(o["error"].toString(RemoteJob::tr("no reason given")));
    } else if (st.state == "done") {
        const QJsonObject result = o["result"].toObject();
        if (result.isEmpty())
            st.problem = RemoteJob::tr("The server finished but listed no stems.");
        // JSON objects have no order: the model's (drums, bass, ...) comes as "stems".
        QStringList order;
        for (const QJsonValue& v : o["stems"].toArray())
            if (result.contains(v.toString()) && !order.contains(v.toString()))
                order << v.toString();
        if (order.size() != result.size()) {
            // No "stems" (the hosted service): Demucs' own order, other names after them.
            static const QStringList demucs = {"drums",  "bass",   "other",
                                               "vocals", "guitar", "piano"};
            order = result.keys();
            std::stable_sort(order.begin(), order.end(), [](const QString& a, const QString& b) {
                auto rank = [](const QString& s) {
                    const auto i = demucs.indexOf(s);
                    return i < 0 ? demucs.size() : i;
                };
                return rank(a) < rank(b);
            });
        }
        for (const QString& stem : order) {
            // The server's name becomes a file name here: never a path ("../x", "a/b"), and two
            // names that become the same file are one too many.
            const QString name = safeFileName(stem);
            if (st.stems.contains(name)) {
                st.problem = RemoteJob::tr("The server listed the stem '%1' twice.").arg(name);
                break;
            }
            st.stems << name;
            // The hosted service's values are file paths on its server, ours are addresses of
            // the same route: the download template (given when the job was accepted) is the
            // one thing both agree on. A full web address (a presigned URL) is taken as it is.
            const QString path = result[stem].toString();
            const bool address = path.startsWith("http://") || path.startsWith("https://");
            QString fromTemplate = downloadTemplate;
            fromTemplate.replace("{stem_name}", "{stem}")
                .replace("{stem}", QString::fromLatin1(QUrl::toPercentEncoding(stem)));
            st.paths << (address ? path : fromTemplate);
        }
    } else if (st.state != "pending" && st.state != "running") {
        st.problem =
            RemoteJob::tr("The server reported an unknown job state '%1'.").arg(st.state.left(80));
    } else {
        st.progress = std::clamp(o["progress"].toDouble(0), 0.0, 1.0);
    }
    return st;
}

QNetworkRequest remoteRequest(const RemoteConfig& config, const QString& path) {
    QUrl url(path);
    if (url.isRelative()) {  // below the server's address, which may have a path (a proxy's prefix)
        url = config.server;
        QString base = url.path();
        while (base.endsWith('/'))
            base.chop(1);
        const QUrl rel(path.startsWith('/') ? path : "/" + path);
        url.setPath(base + rel.path());
        url.setQuery(rel.query());
    }
    QNetworkRequest req(url);
    req.setTransferTimeout(config.transferTimeoutMs);
    // The token goes to the configured server only, never to an address a reply named.
    const bool sameServer = url.scheme() == config.server.scheme() &&
                            url.host() == config.server.host() &&
                            url.port(-1) == config.server.port(-1);
    if (!config.token.isEmpty() && sameServer)
        req.setRawHeader("Authorization", "Bearer " + config.token.toUtf8());
    return req;
}

QString remoteReplyError(const RemoteConfig& config, QNetworkReply* reply, const QString& doing) {
    const int status = httpStatus(reply);
    if (status >= 200 && status < 300 && reply->error() == QNetworkReply::NoError) return {};
    const QString server = config.server.toString(QUrl::RemoveUserInfo);
    if (status == 0) {
        if (reply->error() == QNetworkReply::OperationCanceledError)
            return QObject::tr("The server at %1 did not answer in time while %2.")
                .arg(server, doing);
        return QObject::tr("Cannot reach the server at %1 while %2: %3.")
            .arg(server, doing, reply->errorString());
    }
    const QString detail = detailOf(reply->readAll());
    switch (status) {
        case 401:
        case 403:
            return QObject::tr(
                       "The server refused the access token (%1). Check the token in the settings.")
                .arg(detail);
        case 413:
            return QObject::tr("The server does not take this song: %1").arg(detail);
        case 503:
            return QObject::tr("The server is unavailable: %1").arg(detail);
        default:
            return QObject::tr("The server answered %1 while %2: %3")
                .arg(status)
                .arg(doing, detail);
    }
}

RemoteJob::RemoteJob(RemoteConfig config, QObject* parent)
    : QObject(parent), config_(std::move(config)) {
    timer_.setSingleShot(true);
}

RemoteJob::~RemoteJob() {
    if (!ended_) cancel();
}

QNetworkReply* RemoteJob::track(QNetworkReply* reply) {
    reply_ = reply;
    return reply;
}

void RemoteJob::start(const QString& source, const QString& model, const QString& outDir) {
    source_ = source;
    model_ = model;
    outDir_ = outDir;
    if (!config_.enabled()) return end(tr("No server address is set for remote separation."));
    if (!isWebAddress(source) && !QFileInfo(source).isFile())
        return end(tr("%1 does not exist.").arg(source));
    if (!QDir().mkpath(outDir)) return end(tr("Cannot create the folder %1.").arg(outDir));
    submit();
}

void RemoteJob::submit() {
    QNetworkReply* reply = nullptr;
    if (isWebAddress(source_)) {
        QNetworkRequest req = request("/separate/youtube");
        req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
        const QJsonObject body{{"url", source_}, {"model_name", model_}};
        reply = net_.post(req, QJsonDocument(body).toJson(QJsonDocument::Compact));
        Q_EMIT progress(0, tr("Sending the address to the server"));
    } else {
        auto* form = new QHttpMultiPart(QHttpMultiPart::FormDataType);
        auto* file = new QFile(source_, form);
        if (!file->open(QIODevice::ReadOnly)) {
            delete form;
            return end(tr("Cannot read %1: %2").arg(source_, file->errorString()));
        }
        QHttpPart filePart;
        filePart.setHeader(QNetworkRequest::ContentDispositionHeader,
                           QString("form-data; name=\"file\"; filename=\"%1\"")
                               .arg(QFileInfo(source_).fileName().replace('"', '_')));
        filePart.setHeader(QNetworkRequest::ContentTypeHeader, "application/octet-stream");
        filePart.setBodyDevice(file);
        QHttpPart modelPart;
        modelPart.setHeader(QNetworkRequest::ContentDispositionHeader,
                            "form-data; name=\"model_name\"");
        modelPart.setBody(model_.toUtf8());
        form->append(filePart);
        form->append(modelPart);
        reply = net_.post(request("/separate"), form);
        form->setParent(reply);
        connect(reply, &QNetworkReply::uploadProgress, this, [this](qint64 sent, qint64 total) {
            if (total > 0)
                Q_EMIT progress(kUploadShare * double(sent) / double(total), tr("Uploading"));
        });
    }
    connect(track(reply), &QNetworkReply::finished, this, &RemoteJob::onSubmitted);
}

void RemoteJob::after(int ms, void (RemoteJob::*step)()) {
    timer_.disconnect(this);
    connect(&timer_, &QTimer::timeout, this, step);
    timer_.start(ms);
}

void RemoteJob::onSubmitted() {
    QNetworkReply* reply = reply_;
    if (!reply) return;
    reply->deleteLater();
    if (httpStatus(reply) == 429) {
        if (++busyRetries_ > config_.maxBusyRetries)
            return end(tr("The server stayed busy; try again later."));
        const int wait = std::min(retryAfterSeconds(reply->rawHeader("Retry-After"), 5),
                                  config_.maxRetryAfterSeconds);
        Q_EMIT progress(0, tr("Server busy; retrying in %1 s").arg(wait));
        after(wait * 1000, &RemoteJob::submit);
        return;
    }
    if (const QString e = replyError(reply, tr("sending the song")); !e.isEmpty()) return end(e);
    const QJsonObject o = QJsonDocument::fromJson(reply->readAll()).object();
    jobId_ = o["job_id"].toString();
    session_ = o["session_id"].toString();
    if (jobId_.isEmpty() || session_.isEmpty())
        return end(tr("The server's answer is not what Music Split expects (no job_id or "
                      "session_id); is %1 a Music Split server?")
                       .arg(config_.server.toString()));
    statusPath_ = o["status_url"].toString("/status/" + jobId_);
    downloadTemplate_ = o["download_template"].toString("/download/" + session_ + "/{stem}");
    pollInterval_ = config_.pollMinMs;
    Q_EMIT progress(kUploadShare, tr("Waiting on the server"));
    poll();
}

void RemoteJob::poll() {
    connect(track(net_.get(request(statusPath_))), &QNetworkReply::finished, this,
            &RemoteJob::onStatus);
}

void RemoteJob::onStatus() {
    QNetworkReply* reply = reply_;
    if (!reply) return;
    reply->deleteLater();
    const int status = httpStatus(reply);
    if (status == 404)
        return end(tr("The server has forgotten this job (was it restarted or cleaned up?)."));
    if (const QString e = replyError(reply, tr("separating")); !e.isEmpty()) {
        // The server may restart or drop a connection: a few failures in a row are tolerated.
        if (status >= 400 || ++pollFailures_ > config_.maxPollFailures) return end(e);
    } else {
        pollFailures_ = 0;
        const RemoteStatus st = readRemoteStatus(reply->readAll(), downloadTemplate_);
        if (!st.problem.isEmpty()) return end(st.problem);
        if (st.state == "done") {
            stems_ = st.stems;
            stemPaths_ = st.paths;
            return downloadNext();
        }
        Q_EMIT progress(
            kUploadShare + kServerShare * st.progress,
            st.state == "pending" ? tr("Queued on the server") : tr("Separating on the server"));
    }
    after(pollInterval_, &RemoteJob::poll);
    pollInterval_ = std::min(config_.pollMaxMs, pollInterval_ * 3 / 2);
}

void RemoteJob::downloadNext() {
    const int i = static_cast<int>(files_.size());
    if (i == stems_.size()) {
        // Finished once the server has dropped the session (or failed to: the stems are here).
        ended_ = true;
        QNetworkReply* r = cleanupSession();
        connect(r, &QNetworkReply::finished, this, [this] {
            Q_EMIT progress(1, tr("Done"));
            Q_EMIT finished(stems_, files_);
        });
        return;
    }
    file_ = new QSaveFile(QDir(outDir_).filePath(stems_[i] + ".flac"), this);
    if (!file_->open(QIODevice::WriteOnly))
        return end(tr("Cannot write %1: %2").arg(file_->fileName(), file_->errorString()));
    QNetworkReply* reply = track(net_.get(request(stemPaths_[i])));
    connect(reply, &QNetworkReply::readyRead, this, [this, reply] {
        const int status = httpStatus(reply);
        if (file_ && status >= 200 && status < 300)  // an error's body is kept to explain it
            file_->write(reply->readAll());
    });
    connect(reply, &QNetworkReply::downloadProgress, this, [this, i](qint64 got, qint64 total) {
        const double part = total > 0 ? double(got) / double(total) : 0;
        Q_EMIT progress(kUploadShare + kServerShare +
                            (1 - kUploadShare - kServerShare) * (i + part) / stems_.size(),
                        tr("Downloading %1").arg(stems_[i]));
    });
    connect(reply, &QNetworkReply::finished, this, &RemoteJob::onDownloaded);
}

void RemoteJob::onDownloaded() {
    QNetworkReply* reply = reply_;
    if (!reply || !file_) return;
    reply->deleteLater();
    const QString stem = stems_[files_.size()];
    if (const QString e = replyError(reply, tr("downloading %1").arg(stem)); !e.isEmpty())
        return end(e);
    file_->write(reply->readAll());
    if (file_->size() == 0) return end(tr("The server sent an empty file for %1.").arg(stem));
    if (!file_->commit())
        return end(tr("Cannot write %1: %2").arg(file_->fileName(), file_->errorString()));
    // Our servers send FLAC, the hosted service WAV: the file is named for what it holds.
    QString path = file_->fileName();
    if (const QString ext = audioExtension(path); ext != "flac") {
        const QString renamed =
            QFileInfo(path).path() + "/" + QFileInfo(path).completeBaseName() + "." + ext;
        QFile::remove(renamed);
        if (!QFile::rename(path, renamed)) return end(tr("Cannot write %1").arg(renamed));
        path = renamed;
    }
    files_ << path;
    file_->deleteLater();
    file_ = nullptr;
    downloadNext();
}

QNetworkReply* RemoteJob::cleanupSession() {
    if (session_.isEmpty()) return nullptr;
    QNetworkRequest req = request("/cleanup/" + session_);
    req.setTransferTimeout(std::min(config_.transferTimeoutMs, 5000));
    QNetworkReply* r = net_.deleteResource(req);
    connect(r, &QNetworkReply::finished, r, &QObject::deleteLater);
    session_.clear();
    return r;
}

void RemoteJob::cancel() {
    if (ended_) return;
    end(tr("Cancelled"), true);
}

void RemoteJob::end(const QString& error, bool cancelled) {
    if (ended_) return;
    ended_ = true;
    timer_.stop();
    if (reply_) {
        reply_->disconnect(this);
        reply_->abort();
        reply_->deleteLater();
    }
    if (file_) {
        file_->cancelWriting();
        delete file_;
        file_ = nullptr;
    }
    for (const QString& f : files_)
        QFile::remove(f);
    files_.clear();
    // Reported once the server has dropped the session, so nothing is left running there.
    if (QNetworkReply* r = cleanupSession())
        connect(r, &QNetworkReply::finished, this,
                [this, error, cancelled] { Q_EMIT failed(error, cancelled); });
    else
        Q_EMIT failed(error, cancelled);
}

}  // namespace msplit
