#include "core/models/downloader.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QNetworkReply>
#include <QTimer>

#include "core/error.h"

namespace msplit {

struct ModelDownloader::Job {
    CatalogFile file;
    QFile part;
    QNetworkReply* reply = nullptr;
    qint64 offset = 0;    // bytes already in the part file when this request started
    qint64 received = 0;  // bytes in the part file now
    qint64 total = 0;     // file size, once known
    int attempts = 0;
    bool checkedStatus = false;
};

namespace {

// Plain words for QtNetwork's errors; the ones worth retrying are marked.
QString describe(QNetworkReply* reply, bool* retryable) {
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QString host = reply->url().host();
    *retryable = false;
    switch (reply->error()) {
        case QNetworkReply::ConnectionRefusedError:
            return "cannot connect to " + host + ": connection refused (is the server down?)";
        case QNetworkReply::HostNotFoundError:
            return "cannot find the server " + host + " (no network, or a wrong address)";
        case QNetworkReply::ContentNotFoundError:
            return "not found on the server (HTTP 404): " + reply->url().toString();
        case QNetworkReply::RemoteHostClosedError:
        case QNetworkReply::TemporaryNetworkFailureError:
        case QNetworkReply::NetworkSessionFailedError:
        case QNetworkReply::UnknownNetworkError:
        case QNetworkReply::TimeoutError:
        case QNetworkReply::OperationCanceledError:  // the transfer timeout
            *retryable = true;
            return "the connection to " + host + " was interrupted (" + reply->errorString() + ")";
        default:
            if (status >= 500) *retryable = true;
            return status ? QString("the server answered HTTP %1 for %2")
                                .arg(status)
                                .arg(reply->url().toString())
                          : reply->errorString();
    }
}

}  // namespace

ModelDownloader::ModelDownloader(ModelStore store, QString baseUrl, QObject* parent)
    : QObject(parent), store_(std::move(store)), baseUrl_(std::move(baseUrl)) {
    if (!baseUrl_.endsWith('/')) baseUrl_ += '/';
}

ModelDownloader::~ModelDownloader() {
    cancel();
}

void ModelDownloader::start(const CatalogModel& model) {
    if (running()) return;
    model_ = model;
    clock_.start();
    startBytes_ = doneBytes_ = 0;
    if (!model.unsupported.empty()) {
        fail(QString::fromStdString(model.name + " cannot be used: " + model.unsupported));
        return;
    }
    try {
        for (const auto& f : store_.missingFiles(model)) {
            if (store_.reuseFromTorchHub(f)) {
                Q_EMIT message(
                    QString::fromStdString("reused " + f.fileName + " from the torch hub cache"));
                continue;
            }
            auto job = std::make_unique<Job>();
            job->file = f;
            jobs_.push_back(std::move(job));
        }
        if (jobs_.empty()) {
            store_.writeBag(model);
            Q_EMIT finished(true, {});
            return;
        }
        QDir().mkpath(QString::fromStdString(store_.dir()));
        for (auto& job : jobs_) {
            job->part.setFileName(QString::fromStdString(store_.partPath(job->file)));
            startBytes_ += QFileInfo(job->part.fileName()).size();
        }
        for (auto& job : jobs_)
            request(*job);
    } catch (const Error& e) {
        fail(QString::fromUtf8(e.what()));
    }
}

void ModelDownloader::request(Job& job) {
    if (!job.part.isOpen() && !job.part.open(QIODevice::ReadWrite)) {
        fail(QString::fromStdString(store_.partPath(job.file)) + ": cannot write (" +
             job.part.errorString() + ")");
        return;
    }
    job.offset = job.received = job.part.size();
    job.part.seek(job.offset);
    job.checkedStatus = false;
    QNetworkRequest req(QUrl(baseUrl_ + QString::fromStdString(job.file.path)));
    req.setTransferTimeout(transferTimeoutMs);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::NoLessSafeRedirectPolicy);
    if (job.offset > 0) req.setRawHeader("Range", "bytes=" + QByteArray::number(job.offset) + "-");
    job.reply = network_.get(req);
    connect(job.reply, &QNetworkReply::readyRead, this, [this, &job] { onData(job); });
    connect(job.reply, &QNetworkReply::finished, this, [this, &job] { onFinished(job); });
}

void ModelDownloader::onData(Job& job) {
    QNetworkReply* r = job.reply;
    if (!job.checkedStatus) {
        job.checkedStatus = true;
        const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (job.offset > 0 && status == 200) {  // the server ignored the Range: start over
            job.part.resize(0);
            job.part.seek(0);
            job.offset = job.received = 0;
        }
        const qint64 length = r->header(QNetworkRequest::ContentLengthHeader).toLongLong();
        if (length > 0) job.total = job.offset + length;
    }
    // Only a file's bytes are kept (an error page is not), even from a transfer that then broke.
    const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status != 200 && status != 206) return;
    const QByteArray data = r->readAll();
    if (job.part.write(data) != data.size()) {
        const bool full = job.part.error() == QFileDevice::ResourceError;
        fail(job.part.fileName() + ": cannot write" + (full ? " (disk full)" : "") + ": " +
             job.part.errorString());
        return;
    }
    job.received += data.size();
    emitProgress();
}

void ModelDownloader::onFinished(Job& job) {
    QNetworkReply* r = job.reply;
    if (!r) return;
    onData(job);             // whatever is left
    if (!running()) return;  // failed while writing
    job.reply = nullptr;
    r->deleteLater();
    const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 416 && job.offset > 0) {  // asked past the end: the part file is complete
        complete(job);
        return;
    }
    // A connection closed early can look like a clean end: the length tells.
    const bool shortBody =
        r->error() == QNetworkReply::NoError && job.total > 0 && job.received < job.total;
    if (r->error() != QNetworkReply::NoError || shortBody) {
        bool retryable = shortBody;
        const QString why = shortBody
                                ? QString("the connection to %1 was interrupted (%2 of %3 bytes)")
                                      .arg(r->url().host())
                                      .arg(job.received)
                                      .arg(job.total)
                                : describe(r, &retryable);
        job.part.flush();
        if (retryable && job.attempts++ < retries) {
            Q_EMIT message(QString("%1: %2; resuming at byte %3")
                               .arg(QString::fromStdString(job.file.fileName), why)
                               .arg(job.received));
            Job* pending = &job;
            QTimer::singleShot(200 * job.attempts, this, [this, pending] {
                for (auto& j : jobs_)  // unless cancelled meanwhile
                    if (j.get() == pending) request(*pending);
            });
            return;
        }
        fail(QString::fromStdString(job.file.fileName) + ": " + why);
        return;
    }
    complete(job);
}

void ModelDownloader::complete(Job& job) {
    job.part.close();
    try {
        store_.adopt(store_.partPath(job.file), job.file, false);
    } catch (const Error& e) {
        QFile::remove(QString::fromStdString(store_.partPath(job.file)));  // never resume bad bytes
        fail(QString::fromStdString(job.file.fileName + " was discarded: " + e.reason()));
        return;
    }
    doneBytes_ += job.received;
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it)
        if (it->get() == &job) {
            jobs_.erase(it);
            break;
        }
    emitProgress();
    if (!jobs_.empty()) return;
    try {
        store_.writeBag(model_);
    } catch (const Error& e) {
        Q_EMIT finished(false, QString::fromUtf8(e.what()));
        return;
    }
    Q_EMIT finished(true, {});
}

void ModelDownloader::cancel() {
    if (!running()) return;
    for (auto& job : jobs_)
        if (job->reply) {
            job->reply->disconnect(this);
            job->reply->abort();
            job->reply->deleteLater();
            job->reply = nullptr;
        }
    jobs_.clear();  // the part files stay for a later resume
}

void ModelDownloader::fail(const QString& error) {
    cancel();
    Q_EMIT finished(false, error);
}

void ModelDownloader::emitProgress() {
    DownloadProgress p;
    p.received = p.total = doneBytes_;
    bool totalKnown = true;
    for (const auto& job : jobs_) {
        p.received += job->received;
        p.total += job->total;
        totalKnown = totalKnown && job->total > 0;
    }
    if (!totalKnown) p.total = 0;
    const double seconds = static_cast<double>(clock_.elapsed()) / 1000.0;
    const qint64 fresh = p.received - startBytes_;
    if (seconds > 0.2 && fresh > 0) {
        p.bytesPerSecond = static_cast<double>(fresh) / seconds;
        if (p.total > 0)
            p.etaSeconds = static_cast<double>(p.total - p.received) / p.bytesPerSecond;
    }
    Q_EMIT progress(p);
}

void downloadModel(const ModelStore& store, const std::string& baseUrl, const CatalogModel& model,
                   const std::function<void(const DownloadProgress&)>& onProgress,
                   const std::function<void(const QString&)>& onMessage) {
    ModelDownloader d(store, QString::fromStdString(baseUrl));
    QEventLoop loop;
    QString error;
    bool ok = false;
    QObject::connect(&d, &ModelDownloader::progress, [&](const DownloadProgress& p) {
        if (onProgress) onProgress(p);
    });
    QObject::connect(&d, &ModelDownloader::message, [&](const QString& m) {
        if (onMessage) onMessage(m);
    });
    QObject::connect(&d, &ModelDownloader::finished, [&](bool success, const QString& e) {
        ok = success;
        error = e;
        loop.quit();
    });
    QTimer::singleShot(0, &d, [&] { d.start(model); });
    loop.exec();
    if (!ok) throw Error(ErrorKind::Network, model.name, error.toStdString());
}

}  // namespace msplit
