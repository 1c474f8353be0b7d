#pragma once
// One separation job for the app's thread pool: decode, separate, write the stems into a new
// library folder. It reports through callbacks (from its worker thread) and stops at the next
// segment when cancelled, leaving nothing behind.
#include <QRunnable>
#include <QString>

#include <functional>

#include "core/audio/live_song.h"
#include "core/engine/engine.h"
#include "core/jobs/library.h"
#include "core/jobs/separation.h"
#include "core/remote/remote_job.h"

namespace msplit {

struct JobConfig {
    SeparationSettings separation;  // repo: the model cache
    QString libraryRoot;
    QString format = defaults::kLibraryFormat;  // library stems: flac24 or wav32f
    int threads = 0;                            // LibTorch threads; 0: all cores
    int cpuJobs = 1;                            // jobs at once on the CPU
    RemoteConfig remote;                        // enabled: a Music Split server separates instead
};

using ModelProvider = std::function<LoadedModel(const SeparationSettings&)>;

struct TaskCallbacks {
    std::function<void(double fraction, double etaSeconds, const QString& stage)> progress;
    // The first stem frames are out: the song can be played while the rest is separated.
    std::function<void(std::shared_ptr<const LiveSong>)> live;
    std::function<void(const JobRecord&)> done;
    std::function<void(const QString& error, bool cancelled)> failed;
};

class SeparationTask {
public:
    SeparationTask(QString source, QString sourceUrl, JobConfig config, ModelProvider models,
                   TaskCallbacks callbacks);
    void run();
    void cancel() { cancel_.cancel(); }

private:
    JobRecord separate(const QString& tempFolder, const QString& id);
    QString source_, sourceUrl_;
    JobConfig config_;
    ModelProvider models_;
    TaskCallbacks cb_;
    engine::CancelToken cancel_;
};

}  // namespace msplit
