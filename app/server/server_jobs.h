#pragma once
// The server's jobs: one folder each under the jobs directory (the upload, job.json and the FLAC
// stems), run on the app's JobQueue. job.json is rewritten atomically at every state change, so a
// restarted server still serves finished jobs and reports interrupted ones as errors.
#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <map>
#include <set>

#include "app/server/server_options.h"
#include "core/jobs/job_queue.h"

namespace msplit {
class YtDlpRunner;
}

namespace msplit::server {

struct ServerJob {
    QString id, session, model;
    QString status = "pending";  // pending | running | done | error
    QDateTime submitted, started, finished;
    QString error;
    QString input;      // the song, in the job's folder
    QString sourceUrl;  // for /separate/youtube
    double progress = 0;
    QStringList stems;     // in the model's order (drums, bass, ...)
    QString resultFolder;  // holds STEM.flac

    QString stemFile(const QString& stem) const { return resultFolder + "/" + stem + ".flac"; }

    bool active() const { return status == "pending" || status == "running"; }
    QJsonObject toJson() const;  // job.json
    static ServerJob fromJson(const QJsonObject& o);
};

class ServerJobs : public QObject {
    Q_OBJECT
public:
    ServerJobs(const ServerOptions& options, QObject* parent = nullptr);
    ~ServerJobs() override;

    // Reads the jobs folder; jobs a previous run left pending or running become errors.
    void load();
    int activeCount() const;
    const ServerJob* job(const QString& id) const;
    const ServerJob* bySession(const QString& session) const;

    // A new job with its folder; the caller puts the song at input() and calls start().
    ServerJob& create(const QString& model);
    QString folder(const QString& id) const;
    // Queues a song already in the job's folder.
    void start(const QString& id, const QString& input);
    // Downloads the URL with yt-dlp (off this thread), then queues it.
    void startUrl(const QString& id, const QString& url);
    // Cancels the session's job if it runs and deletes its files. False when unknown.
    bool cleanup(const QString& session);
    // Deletes finished jobs older than the options' keepHours (clients that never cleaned up).
    void expire();

Q_SIGNALS:
    void separationEnded(const QString& status, double seconds);

private:
    void fail(const QString& id, const QString& error);
    void save(const ServerJob& job) const;
    void onQueueChanged(int queueId);
    void onQueueFinished(int queueId);

    ServerOptions options_;
    JobQueue queue_;
    std::map<QString, ServerJob> jobs_;
    std::map<int, QString> running_;             // queue id -> job id
    std::map<QString, YtDlpRunner*> downloads_;  // job id -> its yt-dlp, while it runs
    std::set<QString> deleteWhenStopped_;        // cleaned up while separating
    QTimer expiry_;
};

}  // namespace msplit::server
