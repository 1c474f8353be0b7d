#pragma once
// The server's jobs: one folder each under the jobs directory (the upload, job.json and the FLAC
// stems), run on the app's JobQueue. job.json is rewritten atomically at every state change, so a
// restarted server still serves finished jobs and reports interrupted ones as errors. With a
// broker (--broker redis://...) jobs are not run here: they go to music-split-worker processes
// through a Redis stream, and the workers report back through the internal routes (see report()).
#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "app/server/server_options.h"
#include "app/server/spool_file.h"
#include "core/broker/job_stream.h"
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
    // With a broker: the job's key for the worker routes, its stream entry, and who runs it.
    QString token, messageId, worker, attempt;

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
    int modelsLoaded() const { return static_cast<int>(queue_.cachedModels().size()); }
    const ServerJob* job(const QString& id) const;
    const ServerJob* bySession(const QString& session) const;

    // A new job with its folder; the caller puts the song at input() and calls start().
    ServerJob& create(const QString& model);
    QString folder(const QString& id) const;
    // Queues a song already in the job's folder. Returns why it could not (the broker is down: the
    // job has failed with that reason), or an empty string.
    QString start(const QString& id, const QString& input);
    // Downloads the URL with yt-dlp (off this thread), then queues it.
    void startUrl(const QString& id, const QString& url);
    // Where uploads wait while they are received and checked (emptied at start).
    QString spoolFolder() const;
    // Cancels the session's job if it runs and deletes its files. False when unknown.
    bool cleanup(const QString& session);
    // Deletes finished jobs older than the options' keepHours (clients that never cleaned up).
    void expire();

    // --- with a broker ---
    bool usesBroker() const { return stream_ != nullptr; }
    // Where workers reach this node (set once the port is known).
    void setAdvertiseUrl(const QString& url) { advertiseUrl_ = url; }
    // Empty when Redis answers, else why not (for 503s and /health).
    QString brokerProblem() const;
    std::vector<broker::WorkerInfo> workers() const;  // the live ones; none when Redis is down
    broker::QueueStats queueStats() const;
    // The job `id` when `token` is its key for the worker routes, else null.
    const ServerJob* forWorker(const QString& id, const QByteArray& token) const;
    // One stem of a worker's attempt, kept apart until report("done") takes the attempt whole.
    // Throws Error (InvalidInput for a name or attempt that is not current).
    // `data` is moved into place.
    void storeStem(const QString& id, const QString& attempt, const QString& stem, SpoolFile& data);
    struct Answer {
        int status = 200;
        QString detail;
    };
    // A worker's report on job `id`: {"state": "started" | "progress" | "done" | "error" |
    // "refused", "worker", "attempt", ...}. The newest "started" owns the job; reports of an
    // older attempt get 409, which tells its worker to stop; only one "done" is kept.
    Answer report(const QString& id, const QJsonObject& report);

Q_SIGNALS:
    void separationEnded(const QString& status, double seconds);
    // A job ended: seconds it waited for a worker and seconds it ran.
    void jobTimed(double waitSeconds, double runSeconds);

private:
    void finish(ServerJob& job, const QString& status);
    QString attemptFolder(const QString& id, const QString& attempt) const;
    // What a worker needs of a job: its id, model, routes on this node and key.
    broker::StreamJob streamEntry(const ServerJob& job) const;
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
    std::unique_ptr<broker::RedisClient> redis_;
    std::unique_ptr<broker::JobStream> stream_;
    QString advertiseUrl_;
};

}  // namespace msplit::server
