#include "core/jobs/job_config.h"

#include <QUrl>

namespace msplit {

RemoteConfig remoteConfigFrom(const AppSettings& s) {
    RemoteConfig c;
    if (!s.remoteUrl().isEmpty()) c.server = QUrl::fromUserInput(s.remoteUrl());
    c.token = s.remoteToken();
    return c;
}

JobConfig jobConfigFrom(const AppSettings& s, const QString& libraryRoot) {
    JobConfig c;
    c.separation.model = s.model().toStdString();
    c.separation.repo = s.modelCache().toStdString();
    c.separation.options.shifts = s.shifts();
    c.separation.options.overlap = s.overlap();
    if (s.segment() > 0) c.separation.options.segment = s.segment();
    c.separation.device = s.device().toStdString();
    c.libraryRoot = libraryRoot;
    c.format = s.resultFormat();
    c.threads = s.threads();
    c.cpuJobs = s.cpuJobs();
    c.remote = remoteConfigFrom(s);
    return c;
}

JobConfig serviceJobConfig(const QString& repo, const QString& device, int threads, int shifts,
                           double overlap, double maxSeconds) {
    JobConfig config;
    config.separation.repo = repo.toStdString();
    if (!device.isEmpty()) config.separation.device = device.toStdString();
    config.threads = threads;
    config.separation.options.shifts = shifts;
    config.separation.options.overlap = overlap;
    config.separation.maxSeconds = maxSeconds;
    config.format = defaults::kLibraryFormat;
    return config;
}

}  // namespace msplit
