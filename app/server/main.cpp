// music-split-server: the Music Split REST API on this machine's engine, for a GPU box at home or
// in a cluster. Headless; jobs survive restarts in the jobs folder.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "app/server/api_server.h"
#include "core/engine/device.h"
#include "core/log/logging.h"
#include "core/paths.h"

namespace {

double number(const QCommandLineParser& p, const QString& name) {
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || v < 0) {
        std::fprintf(stderr, "music-split-server: --%s expects a number, got '%s'\n",
                     qPrintable(name), qPrintable(p.value(name)));
        std::exit(2);
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    msplit::engine::prepareProcess();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("music-split-server");
    QCoreApplication::setApplicationVersion(MUSIC_SPLIT_VERSION);

    const QString dataJobs = QString::fromStdString(msplit::paths::dataDir()) + "/server-jobs";
    QCommandLineParser p;
    p.setApplicationDescription("Serves the Music Split separation API (REST, see README).");
    p.addHelpOption();
    p.addVersionOption();
    p.addOptions({
        {"host", "Address to listen on.", "HOST", "127.0.0.1"},
        {"port", "Port (0: any free one, printed at start).", "P", "8000"},
        {"repo", "Model repository folder (as demucs --repo).", "DIR"},
        {"cache", "Model cache folder (same as --repo).", "DIR",
         QString::fromStdString(msplit::paths::modelRepo())},
        {"token", "Require 'Authorization: Bearer T' on every request.", "T"},
        {"max-pending", "Jobs waiting or running before new ones get 429.", "N", "8"},
        {"max-duration", "Longest song accepted, in seconds (413 beyond).", "S", "1200"},
        {"max-upload-mb", "Largest upload accepted, in MB (413 beyond).", "M", "200"},
        {"jobs-dir", "Where jobs, uploads and stems are kept.", "DIR", dataJobs},
        {"keep-hours", "Finished jobs are deleted this long after they end.", "H", "24"},
        {"yt-dlp", "The yt-dlp program for /separate/youtube.", "PATH"},
        {"device", "auto, cpu, cuda or cuda:N.", "D", "auto"},
        {{"j", "jobs"}, "CPU threads (default: all cores).", "N", "0"},
        {"shifts", "Random shifts averaged per song (0: repeatable results).", "N", "1"},
        {"overlap", "Overlap between segments.", "F", "0.25"},
        {"verbose", "More logging."},
    });
    p.process(app);
    msplit::initLogging(p.isSet("verbose"));

    msplit::server::ServerOptions o;
    o.host = p.value("host");
    o.port = static_cast<int>(number(p, "port"));
    o.repo = p.isSet("repo") ? p.value("repo") : p.value("cache");
    o.token = p.value("token");
    o.maxPending = static_cast<int>(number(p, "max-pending"));
    o.maxDurationSeconds = number(p, "max-duration");
    o.maxUploadMb = number(p, "max-upload-mb");
    o.jobsDir = QDir(p.value("jobs-dir")).absolutePath();
    o.keepHours = number(p, "keep-hours");
    o.ytDlp = p.value("yt-dlp");
    o.device = p.value("device");
    o.threads = static_cast<int>(number(p, "jobs"));
    o.shifts = static_cast<int>(number(p, "shifts"));
    o.overlap = number(p, "overlap");
    if (!QDir().mkpath(o.jobsDir)) {
        std::fprintf(stderr, "music-split-server: cannot create %s\n", qPrintable(o.jobsDir));
        return 1;
    }
    msplit::engine::setThreads(o.threads);

    msplit::server::ApiServer server(o);
    const quint16 port = server.listen();
    if (!port) {
        std::fprintf(stderr, "music-split-server: cannot listen on %s:%d\n", qPrintable(o.host),
                     o.port);
        return 1;
    }
    // Tests and scripts read this line to learn the port.
    std::printf("listening on http://%s:%u\n", qPrintable(o.host), unsigned(port));
    std::fflush(stdout);
    spdlog::info("server: listening on {}:{}, models from {}, jobs in {}", o.host.toStdString(),
                 port, o.repo.toStdString(), o.jobsDir.toStdString());
    return app.exec();
}
