#pragma once
// The app's settings turned into what the queue needs: one place, so the window, the tests and
// any other front end configure jobs the same way.
#include <QString>

#include "core/jobs/separation_task.h"
#include "core/remote/remote_job.h"
#include "core/settings.h"

namespace msplit {

// The remote server the settings name; disabled when the field is empty.
RemoteConfig remoteConfigFrom(const AppSettings& settings);
// Model, cache, shifts, overlap, segment, device, threads, jobs at once, library format and
// remote server from the settings; results go to `libraryRoot`.
JobConfig jobConfigFrom(const AppSettings& settings, const QString& libraryRoot);
// For the server and its workers: models from `repo`, stems as the library's FLAC (served as
// they are), songs longer than `maxSeconds` (0: any) refused while decoding.
JobConfig serviceJobConfig(const QString& repo, const QString& device, int threads, int shifts,
                           double overlap, double maxSeconds = 0);

}  // namespace msplit
