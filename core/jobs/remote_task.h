#pragma once
// A queue job done by a Music Split server: the stems come down into a library temporary folder
// and are committed as a normal result, so the window shows, plays and exports them the same way.
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

#include "core/jobs/separation_task.h"
#include "core/remote/remote_job.h"

namespace msplit {

class RemoteTask : public QObject {
    Q_OBJECT
public:
    RemoteTask(QString source, QString sourceUrl, JobConfig config, TaskCallbacks callbacks,
               QObject* parent = nullptr);
    void start();
    void cancel();

private:
    void onFinished(const QStringList& stems, const QStringList& files);
    void onFailed(const QString& error, bool cancelled);

    QString source_, sourceUrl_;
    JobConfig config_;
    TaskCallbacks cb_;
    RemoteJob* job_;
    QString temp_, id_;
    QElapsedTimer clock_;
};

}  // namespace msplit
