#include "core/jobs/remote_task.h"

#include <QFileInfo>

#include "core/audio/decoder.h"
#include "core/error.h"

namespace msplit {

RemoteTask::RemoteTask(QString source, QString sourceUrl, JobConfig config, TaskCallbacks callbacks,
                       QObject* parent)
    : QObject(parent),
      source_(std::move(source)),
      sourceUrl_(std::move(sourceUrl)),
      config_(std::move(config)),
      cb_(std::move(callbacks)),
      job_(new RemoteJob(config_.remote, this)) {
    connect(job_, &RemoteJob::progress, this,
            [this](double f, const QString& stage) { cb_.progress(f, -1, stage); });
    connect(
        job_, &RemoteJob::finished, this,
        [this](const QStringList& stems, const QStringList& files) { onFinished(stems, files); });
    connect(job_, &RemoteJob::failed, this, &RemoteTask::onFailed);
}

void RemoteTask::start() {
    clock_.start();
    try {
        temp_ = Library(config_.libraryRoot).beginJob(QFileInfo(source_).completeBaseName(), &id_);
    } catch (const Error& e) {
        return cb_.failed(QString::fromUtf8(e.what()), false);
    }
    job_->start(source_, QString::fromStdString(config_.separation.model), temp_);
}

void RemoteTask::cancel() {
    job_->cancel();
}

void RemoteTask::onFinished(const QStringList& stems, const QStringList& files) {
    JobRecord r;
    r.id = id_;
    r.source = source_;
    r.sourceUrl = sourceUrl_;
    r.title = QFileInfo(source_).completeBaseName();
    r.model = QString::fromStdString(config_.separation.model);
    r.stems = stems;
    r.extension = QFileInfo(files.first()).suffix();  // flac, or wav from the hosted service
    r.separationSeconds = double(clock_.elapsed()) / 1000.0;
    r.created = QDateTime::currentDateTime();
    r.settings = {{"server", config_.remote.server.toString(QUrl::RemoveUserInfo)},
                  {"format", defaults::kLibraryFormat}};
    const Library library(config_.libraryRoot);
    try {
        r.durationSeconds = probeAudio(files.first().toStdString()).durationSeconds;
        cb_.done(library.commitJob(temp_, r));
    } catch (const Error& e) {
        library.abandonJob(temp_);
        cb_.failed(QString::fromUtf8(e.what()), false);
    }
}

void RemoteTask::onFailed(const QString& error, bool cancelled) {
    if (!temp_.isEmpty()) Library(config_.libraryRoot).abandonJob(temp_);
    cb_.failed(error, cancelled);
}

}  // namespace msplit
