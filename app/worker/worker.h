#pragma once
// music-split-worker's loop: take a job from the broker's stream (a stale one of a dead worker
// first, else the next new one), fetch its song from the API node, separate it on this machine's
// engine, upload the stems, report, and only then remove it from the stream. While it runs the job
// is renewed every two seconds, so another worker claims it only if this one stops.
#include <QString>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/broker/job_stream.h"
#include "core/jobs/job_queue.h"

namespace msplit::worker {

struct WorkerOptions {
    QString broker, brokerPasswordFile;
    QString repo;  // model repository (--repo or --cache)
    QString device;
    QString jobsDir;  // this machine's scratch space for songs and stems
    QString name;     // consumer name in the group; unique per worker
    int threads = 0;
    int shifts = 0;
    double overlap = 0.25;
    int visibilitySeconds = 60;  // a job not renewed for this long is given to another worker
    int maxAttempts = 3;         // deliveries of one job before it is reported as failed
};

class Worker {
public:
    explicit Worker(WorkerOptions options);
    ~Worker();
    // Runs until `stop` is set (SIGTERM); Redis lost meanwhile is waited out with growing pauses.
    void run(const std::atomic<bool>& stop);

private:
    void process(const broker::StreamJob& job, const std::atomic<bool>& stop);
    // Separates the song; the stems' files on success, else the error (empty when cancelled).
    bool separate(const broker::StreamJob& job, const QString& input, const QString& attempt,
                  class NodeClient& node, const std::atomic<bool>& stop, JobQueue::Item& result);
    void announce(const std::string& job = {});
    std::vector<std::string> models() const;

    WorkerOptions options_;
    std::unique_ptr<broker::RedisClient> redis_;
    std::unique_ptr<broker::JobStream> stream_;
    JobQueue queue_;
};

}  // namespace msplit::worker
