#pragma once
// The app's separation queue: songs wait, run on a QThreadPool (one at a time on a GPU, as many as
// the settings allow on the CPU), report progress, and can be cancelled or removed. The UI thread
// only ever receives signals; it never waits on the engine.
#include <QList>
#include <QObject>
#include <QThreadPool>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "core/jobs/separation_task.h"

namespace msplit {

class JobQueue : public QObject {
    Q_OBJECT
public:
    enum class State { Queued, Running, Done, Failed, Cancelled };
    struct Item {
        int id = 0;
        QString source;
        QString title;
        QString model;
        State state = State::Queued;
        double progress = 0;
        double etaSeconds = -1;
        QString stage;
        QString error;
        JobRecord result;
        std::shared_ptr<const LiveSong> live;  // while it runs, once stems come out
    };

    explicit JobQueue(QObject* parent = nullptr);
    ~JobQueue() override;  // cancels what runs and waits for it

    // Used for the jobs enqueued from now on.
    void setConfig(const JobConfig& config);
    const JobConfig& config() const { return config_; }
    // `sourceUrl`: the web page a downloaded file came from (kept in the result).
    int enqueue(const QString& source, const QString& sourceUrl = {});
    void cancel(int id);
    void cancelAll();
    // Forgets a finished, failed or cancelled item; false while it is queued or running.
    bool remove(int id);
    const Item* item(int id) const;
    QList<int> ids() const;
    bool busy() const;
    // Loaded models are kept for the next job, the least recently used going first while their
    // weights exceed this many bytes (the one in use always stays).
    void setModelCacheLimit(int64_t bytes) { modelCacheLimit_ = bytes; }
    QStringList cachedModels() const;  // their names
    // Blocks until every job has ended (for quitting); the UI never calls it otherwise.
    void waitForDone();

Q_SIGNALS:
    void itemAdded(int id);
    void itemChanged(int id);
    void itemFinished(int id);  // done, failed or cancelled

private:
    LoadedModel modelFor(const SeparationSettings& s);
    void update(int id, const std::function<void(Item&)>& change, bool finished = false);

    JobConfig config_;
    QThreadPool pool_;
    std::map<int, Item> items_;
    std::map<int, std::function<void()>> cancels_;  // of the jobs not yet ended
    int nextId_ = 1;
    struct CachedModel {
        LoadedModel model;
        uint64_t lastUse = 0;
    };
    mutable std::mutex modelMutex_;
    std::map<std::string, CachedModel> models_;  // per model, repository and device
    uint64_t useClock_ = 0;
    std::atomic<int64_t> modelCacheLimit_{int64_t(2) << 30};  // 2 GB: htdemucs_ft's bag is 0.7
};

}  // namespace msplit
