#pragma once
// The jobs between music-split-server (the API node) and music-split-worker, on one Redis
// stream with one consumer group. The API node adds a job (XADD); a worker takes it (XREADGROUP),
// keeps it while it runs (XCLAIM JUSTID renews its idle time), and removes it when the API node
// has its result (XACK + XDEL). A job whose worker stopped renewing for the visibility timeout is
// taken by another worker (XAUTOCLAIM): delivery is at least once; the API node keeps one result.
// Workers announce themselves with a key that expires (SET EX), so a dead one drops out.
#include <optional>
#include <string>
#include <vector>

#include "core/broker/redis_client.h"

namespace msplit::broker {

inline constexpr const char* kStream = "music-split:jobs";
inline constexpr const char* kGroup = "workers";
inline constexpr const char* kWorkerPrefix = "music-split:worker:";

// A job as it travels in the stream: what a worker needs to fetch the song and hand back stems.
struct StreamJob {
    std::string messageId;  // the stream's entry id (set by add and by the readers)
    std::string job;        // the API node's job id
    std::string model;
    std::string api;    // the job's internal routes: http://NODE:PORT/internal/jobs/JOB
    std::string token;  // the job's own key for those routes (X-Job-Token)
    std::vector<std::string> refusedBy;  // workers that lack the model
    int deliveries = 1;                  // times given to a worker, this one included
};

// What a live worker says of itself (its key's value).
struct WorkerInfo {
    std::string name, device, job;  // job: the one it runs, or empty
    std::vector<std::string> models;
};

struct QueueStats {
    long long waiting = 0;  // in the stream, not yet taken
    long long taken = 0;    // taken by a worker and not yet removed
};

class JobStream {
public:
    explicit JobStream(RedisClient& redis) : redis_(redis) {}

    // Creates the stream and its group when missing (both sides call it at start).
    void ensureGroup();
    // Adds a job; returns its entry id.
    std::string add(const StreamJob& job);
    // Forgets an entry: acknowledged and deleted (done, failed, cancelled or requeued).
    void remove(const std::string& messageId);

    // A job another worker took and has not renewed for `idleMs`, now this worker's.
    std::optional<StreamJob> claimStale(const std::string& worker, int idleMs);
    // The next job nobody took yet, waiting up to `blockMs` for one.
    std::optional<StreamJob> next(const std::string& worker, int blockMs);
    // Keeps a taken job this worker's for another visibility timeout. False when another worker
    // has claimed it meanwhile (this one was thought dead) or it was removed.
    bool renew(const std::string& worker, const std::string& messageId);

    void announce(const WorkerInfo& worker, int ttlSeconds);
    void leave(const std::string& worker);
    std::vector<WorkerInfo> workers();
    QueueStats stats();

private:
    std::optional<StreamJob> fromEntry(const RedisReply& entry);
    int deliveries(const std::string& messageId, std::string* owner = nullptr);

    RedisClient& redis_;
};

}  // namespace msplit::broker
