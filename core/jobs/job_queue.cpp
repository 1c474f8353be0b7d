#include "core/jobs/job_queue.h"

#include <QFileInfo>
#include <QPointer>

#include "core/engine/engine.h"
#include "core/jobs/remote_task.h"

namespace msplit {

JobQueue::JobQueue(QObject* parent) : QObject(parent) {
    pool_.setMaxThreadCount(1);
}

JobQueue::~JobQueue() {
    cancelAll();
    pool_.waitForDone();
}

void JobQueue::setConfig(const JobConfig& config) {
    config_ = config;
    const bool gpu = engine::meansGpu(config.separation.device);
    // One job on a GPU (its memory is the limit); on the CPU, as many as the settings allow.
    pool_.setMaxThreadCount(gpu ? 1 : std::max(1, config.cpuJobs));
}

LoadedModel JobQueue::modelFor(const SeparationSettings& s) {
    const std::string key = s.repo + "|" + s.model + "|" + s.device + "|" + s.precision +
                            (s.options.segment ? "|" + std::to_string(*s.options.segment) : "");
    std::lock_guard<std::mutex> lock(modelMutex_);
    auto it = models_.find(key);
    if (it == models_.end()) it = models_.emplace(key, CachedModel{loadSeparationModel(s)}).first;
    it->second.lastUse = ++useClock_;
    // The least recently used go while the weights kept exceed the limit (a job holding one
    // keeps it alive until it ends; the one just asked for always stays).
    const auto bytes = [](const CachedModel& m) {
        return m.model.separator ? m.model.separator->parameters() * int64_t(sizeof(float)) : 0;
    };
    int64_t total = 0;
    for (const auto& [k, m] : models_)
        total += bytes(m);
    while (total > modelCacheLimit_ && models_.size() > 1) {
        auto oldest = models_.end();
        for (auto m = models_.begin(); m != models_.end(); ++m)
            if (m->first != key &&
                (oldest == models_.end() || m->second.lastUse < oldest->second.lastUse))
                oldest = m;
        total -= bytes(oldest->second);
        models_.erase(oldest);
    }
    return it->second.model;
}

QStringList JobQueue::cachedModels() const {
    std::lock_guard<std::mutex> lock(modelMutex_);
    QStringList names;
    for (const auto& [key, m] : models_)
        names << QString::fromStdString(m.model.name);
    return names;
}

int JobQueue::enqueue(const QString& source, const QString& sourceUrl) {
    const int id = nextId_++;
    Item item;
    item.id = id;
    item.source = source;
    item.title = QFileInfo(source).completeBaseName();
    item.model = QString::fromStdString(config_.separation.model);
    item.stage = tr("Waiting");
    items_[id] = item;
    Q_EMIT itemAdded(id);

    // Callbacks come from the worker thread; each hops to this object's thread.
    QPointer<JobQueue> self(this);
    auto post = [self](std::function<void()> f) {
        if (self) QMetaObject::invokeMethod(self, std::move(f), Qt::QueuedConnection);
    };
    TaskCallbacks cb;
    cb.progress = [this, post, id](double f, double eta, const QString& stage) {
        post([this, id, f, eta, stage] {
            update(id, [&](Item& it) {
                if (it.state == State::Queued) it.state = State::Running;
                it.progress = f;
                it.etaSeconds = eta;
                it.stage = stage;
            });
        });
    };
    cb.live = [this, post, id](std::shared_ptr<const LiveSong> live) {
        post([this, id, live] { update(id, [&](Item& it) { it.live = live; }); });
    };
    cb.done = [this, post, id](const JobRecord& r) {
        post([this, id, r] {
            update(
                id,
                [&](Item& it) {
                    it.state = State::Done;
                    it.live.reset();  // a view playing it keeps its own
                    it.progress = 1;
                    it.result = r;
                    it.title = r.title;
                    it.stage = tr("Done");
                },
                true);
        });
    };
    cb.failed = [this, post, id](const QString& error, bool cancelled) {
        post([this, id, error, cancelled] {
            update(
                id,
                [&](Item& it) {
                    it.state = cancelled ? State::Cancelled : State::Failed;
                    it.live.reset();
                    it.error = cancelled ? QString() : error;
                    it.stage = cancelled ? tr("Cancelled") : tr("Failed");
                },
                true);
        });
    };
    if (config_.remote.enabled()) {  // a server does the work; this thread only talks to it
        auto* task = new RemoteTask(source, sourceUrl, config_, std::move(cb), this);
        connect(this, &JobQueue::itemFinished, task, [task, id](int ended) {
            if (ended == id) task->deleteLater();
        });
        cancels_[id] = [task = QPointer<RemoteTask>(task)] {
            if (task) task->cancel();
        };
        task->start();
        return id;
    }
    auto task = std::make_shared<SeparationTask>(
        source, sourceUrl, config_, [this](const SeparationSettings& s) { return modelFor(s); },
        std::move(cb));
    cancels_[id] = [task] { task->cancel(); };
    pool_.start([task] { task->run(); });
    return id;
}

void JobQueue::update(int id, const std::function<void(Item&)>& change, bool finished) {
    auto it = items_.find(id);
    if (it == items_.end()) return;
    if (it->second.state == State::Cancelled && !finished)
        return;  // late progress of a cancelled job
    change(it->second);
    if (finished) cancels_.erase(id);
    Q_EMIT itemChanged(id);
    if (finished) Q_EMIT itemFinished(id);
}

void JobQueue::cancel(int id) {
    auto t = cancels_.find(id);
    if (t != cancels_.end()) t->second();  // a queued task stops before it starts work
}

void JobQueue::cancelAll() {
    for (auto& [id, cancel] : cancels_)
        cancel();
}

bool JobQueue::remove(int id) {
    auto it = items_.find(id);
    if (it == items_.end() || cancels_.count(id)) return false;
    items_.erase(it);
    return true;
}

const JobQueue::Item* JobQueue::item(int id) const {
    auto it = items_.find(id);
    return it == items_.end() ? nullptr : &it->second;
}

QList<int> JobQueue::ids() const {
    QList<int> out;
    for (const auto& [id, item] : items_)
        out << id;
    return out;
}

bool JobQueue::busy() const {
    return !cancels_.empty();
}

void JobQueue::waitForDone() {
    pool_.waitForDone();
}

}  // namespace msplit
