#pragma once
// How music-split-server was started.
#include <QString>

#include "core/engine/engine.h"

namespace msplit::server {

struct ServerOptions {
    QString host = "127.0.0.1";
    int port = 8000;
    QString repo;        // model repository (--repo or --cache)
    QString token;       // bearer token; empty: no authentication
    int maxPending = 8;  // jobs waiting or running
    double maxDurationSeconds = 20 * 60;
    double maxUploadMb = 200;
    QString jobsDir;
    double keepHours = 24;          // finished jobs are deleted this long after they end
    QString ytDlp;                  // yt-dlp program (default: from PATH)
    bool allowPrivateUrls = false;  // /separate/youtube may fetch loopback and private addresses
    QString device;                 // engine device: auto, cpu, cuda...
    int threads = 0;
    int shifts = engine::defaultOptions().shifts;  // 0 makes results repeatable
    double overlap = engine::defaultOptions().overlap;
    bool verbose = false;
    bool jsonLog = false;  // --log-format json: one JSON object per line, with request ids
    // Scale-out: jobs go to workers through Redis instead of running here.
    QString broker;              // redis://HOST:PORT[/DB]; empty: this process separates
    QString brokerPasswordFile;  // its first line is Redis' password
    QString advertiseUrl;        // how workers reach this node (default: http://HOST:PORT)
};

}  // namespace msplit::server
