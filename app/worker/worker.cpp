#include "app/worker/worker.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "app/worker/node_client.h"
#include "core/error.h"
#include "core/jobs/job_config.h"
#include "core/models/local_repo.h"

namespace msplit::worker {
namespace {

constexpr int kBeatMs = 2000;        // renewal, progress and announcement while a job runs
constexpr int kAnnounceTtl = 10;     // seconds a worker stays listed after its last announcement
constexpr int kReportSeconds = 120;  // how long a final report is retried while the node is away

QJsonArray toArray(const std::vector<std::string>& v) {
    QJsonArray a;
    for (const auto& s : v)
        a.append(QString::fromStdString(s));
    return a;
}

// Sleeps up to `seconds`, waking early when asked to stop.
void pause(int seconds, const std::atomic<bool>& stop) {
    for (int i = 0; i < seconds * 10 && !stop; ++i)
        QThread::msleep(100);
}

}  // namespace

Worker::Worker(WorkerOptions options) : options_(std::move(options)) {
    redis_ = std::make_unique<broker::RedisClient>(
        broker::parseRedisUrl(options_.broker, options_.brokerPasswordFile), 5000);
    stream_ = std::make_unique<broker::JobStream>(*redis_);
    queue_.setConfig(serviceJobConfig(options_.repo, options_.device, options_.threads,
                                      options_.shifts, options_.overlap));
}

Worker::~Worker() = default;

std::vector<std::string> Worker::models() const {
    try {
        return LocalRepo(options_.repo.toStdString()).names();
    } catch (const Error&) {
        return {};
    }
}

void Worker::announce(const std::string& job) {
    broker::WorkerInfo w;
    w.name = options_.name.toStdString();
    w.device = options_.device.isEmpty() ? "auto" : options_.device.toStdString();
    w.job = job;
    w.models = models();
    stream_->announce(w, kAnnounceTtl);
}

void Worker::run(const std::atomic<bool>& stop) {
    const std::string name = options_.name.toStdString();
    int wait = 1;
    while (!stop) {
        try {
            announce();
            stream_->ensureGroup();  // Redis may have restarted empty
            auto job = stream_->claimStale(name, options_.visibilitySeconds * 1000);
            if (!job) job = stream_->next(name, kBeatMs);
            if (job) process(*job, stop);
            wait = 1;
        } catch (const Error& e) {
            spdlog::warn("worker: {}; trying again in {} s", e.what(), wait);
            pause(wait, stop);
            wait = std::min(wait * 2, 30);
        }
        QCoreApplication::processEvents();
    }
    try {
        stream_->leave(name);
    } catch (const Error&) {
        // gone when its key expires
    }
}

void Worker::process(const broker::StreamJob& job, const std::atomic<bool>& stop) {
    const QString name = options_.name;
    const QString attempt = QString("%1@%2").arg(job.deliveries).arg(name);
    NodeClient node(QString::fromStdString(job.api), QByteArray::fromStdString(job.token));
    auto base = [&](const char* state) {
        return QJsonObject{{"state", state}, {"worker", name}, {"attempt", attempt}};
    };
    // The entry goes only once the node has what it needs; left in the stream otherwise, it is
    // claimed again after the visibility timeout (by this worker or another).
    auto drop = [&] { stream_->remove(job.messageId); };
    spdlog::info("worker: job {} ({}), delivery {}", job.job, job.model, job.deliveries);

    const auto have = models();
    if (std::find(have.begin(), have.end(), job.model) == have.end()) {
        std::vector<std::string> refused = job.refusedBy;
        const bool again =
            std::find(refused.begin(), refused.end(), name.toStdString()) != refused.end();
        if (!again) refused.push_back(name.toStdString());
        QJsonObject r = base("refused");
        r["refused_by"] = toArray(refused);
        const auto res = node.reportPatiently(r, 30);
        if (!res.settled()) return;
        drop();
        spdlog::info("worker: no model {} here; {}", job.model,
                     res.ok() ? "queued again for another worker" : res.error.toStdString());
        if (again) pause(1, stop);  // the one with the model is busy: do not spin on it
        return;
    }
    QJsonObject started = base("started");
    started["device"] = options_.device.isEmpty() ? "auto" : options_.device;
    const auto res = node.reportPatiently(started, 30);
    if (!res.ok()) {  // deleted, or ended already (a worker died after its result was kept)
        if (res.settled()) drop();
        return;
    }
    auto fail = [&](const QString& error) {
        QJsonObject r = base("error");
        r["error"] = error;
        if (node.reportPatiently(r, kReportSeconds).settled()) drop();
    };
    if (job.deliveries > options_.maxAttempts)
        return fail(QString("gave up after %1 tries: the workers running it stopped (crash, kill "
                            "or power loss)")
                        .arg(options_.maxAttempts));
    QTemporaryDir scratch(options_.jobsDir + "/job-XXXXXX");
    if (!scratch.isValid()) return fail("the worker cannot write its scratch folder");
    const QString input = scratch.path() + "/input";
    if (const auto got = node.fetchInput(input); !got.ok()) {
        if (got.transient()) return;
        return fail("the worker could not fetch the song: " + got.error);
    }
    JobQueue::Item item;
    if (!separate(job, input, attempt, node, stop, item)) return;  // cancelled: left as it is
    if (item.state != JobQueue::State::Done) return fail(item.error);
    for (const QString& stem : item.result.stems) {
        NodeClient::Result put;
        for (int tries = 0; tries < 5; ++tries, pause(1 << tries, stop))
            if (!(put = node.putStem(stem, attempt, item.result.folder + "/" + stem + ".flac"))
                     .transient())
                break;
        if (!put.ok()) {
            spdlog::warn("worker: stem {} of job {} not taken: {}", stem.toStdString(), job.job,
                         put.error.toStdString());
            return;  // another worker has it now, or the node is away: left in the stream
        }
    }
    QJsonObject done = base("done");
    done["stems"] = QJsonArray::fromStringList(item.result.stems);
    done["seconds"] = item.result.separationSeconds;
    const auto end = node.reportPatiently(done, kReportSeconds);
    if (!end.settled()) return;
    drop();
    spdlog::info("worker: job {} {}", job.job, end.ok() ? "done" : end.error.toStdString());
}

bool Worker::separate(const broker::StreamJob& job, const QString& input, const QString& attempt,
                      NodeClient& node, const std::atomic<bool>& stop, JobQueue::Item& result) {
    JobConfig config = queue_.config();
    config.separation.model = job.model;
    config.libraryRoot = QFileInfo(input).path() + "/stems";
    queue_.setConfig(config);
    const int id = queue_.enqueue(input);
    QEventLoop loop;
    QTimer beat;
    bool busy = false, cancelled = false;
    auto ended = [&] {
        const JobQueue::Item* it = queue_.item(id);
        return !it ||
               (it->state != JobQueue::State::Queued && it->state != JobQueue::State::Running);
    };
    QObject::connect(&queue_, &JobQueue::itemFinished, &loop, [&](int which) {
        if (which == id) loop.quit();
    });
    QObject::connect(&beat, &QTimer::timeout, &loop, [&] {
        if (busy || ended()) return;
        busy = true;
        if (stop) {
            cancelled = true;
            queue_.cancel(id);
        }
        try {
            announce(job.job);
            if (!stream_->renew(options_.name.toStdString(), job.messageId)) {
                spdlog::warn("worker: job {} was given to another worker", job.job);
                cancelled = true;
                queue_.cancel(id);
            }
        } catch (const Error& e) {
            spdlog::warn("worker: cannot renew job {}: {}", job.job, e.what());  // goes on
        }
        QJsonObject r{{"state", "progress"},
                      {"worker", options_.name},
                      {"attempt", attempt},
                      {"progress", queue_.item(id) ? queue_.item(id)->progress : 0.0}};
        if (const auto res = node.report(r); !res.ok() && !res.transient()) {
            spdlog::info("worker: job {} stopped: {}", job.job, res.error.toStdString());
            cancelled = true;
            queue_.cancel(id);
        }
        busy = false;
    });
    beat.start(kBeatMs);
    if (!ended()) loop.exec();
    result = *queue_.item(id);
    queue_.remove(id);
    return !cancelled && result.state != JobQueue::State::Cancelled;
}

}  // namespace msplit::worker
