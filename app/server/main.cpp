// music-split-server: the Music Split REST API on this machine's engine, for a GPU box at home or
// in a cluster. Headless; jobs survive restarts in the jobs folder.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>

#include <cstdio>

#include <spdlog/spdlog.h>

#include "app/command_line.h"
#include "app/exit_codes.h"
#include "app/server/api_server.h"
#include "core/broker/redis_client.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/log/logging.h"
#include "core/paths.h"

namespace {

using msplit::server::ServerOptions;

// A refused command line: the message for stderr.
struct UsageError {
    QString message;
};

double number(const QCommandLineParser& p, const QString& name) {
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || v < 0)
        throw UsageError{QString("--%1 expects a number, got '%2'").arg(name, p.value(name))};
    return v;
}

// The command line into options, with no side effects. Returns -1 to go on, or the exit status
// (after --help or --version, or a refused command line).
int parseOptions(const QStringList& args, ServerOptions& o) {
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
        {"allow-private-urls",
         "Let /separate/youtube fetch loopback, private and link-local addresses (refused by "
         "default: anyone who can post a job could make the server read its own network)."},
        {"device", "auto, cpu, cuda or cuda:N.", "D", msplit::engine::kDefaultDevice},
        {{"j", "jobs"}, "CPU threads (default: all cores).", "N", "0"},
        {"shifts",
         QString("Random shifts per song, 0: repeatable (default: %1).")
             .arg(msplit::engine::defaultOptions().shifts),
         "N", QString::number(msplit::engine::defaultOptions().shifts)},
        {"overlap",
         QString("Overlap of segments (default: %1).")
             .arg(msplit::engine::defaultOptions().overlap),
         "F", QString::number(msplit::engine::defaultOptions().overlap)},
        {"broker",
         "Queue jobs in Redis for music-split-worker processes instead of separating here: "
         "redis://[:PASSWORD@]HOST[:PORT][/DB].",
         "URL"},
        {"broker-password-file", "Read Redis' password from this file's first line.", "FILE"},
        {"advertise-url", "How workers reach this node (default: http://HOST:PORT as listened on).",
         "URL"},
        {"log-format", "text or json (one object per line, with request ids).", "F", "text"},
        {"verbose", "More logging."},
    });
    if (const int status = msplit::parseCommandLine(p, args, "music-split-server", true);
        status >= 0)
        return status;
    o.verbose = p.isSet("verbose");
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
    o.allowPrivateUrls = p.isSet("allow-private-urls");
    o.device = p.value("device");
    o.threads = static_cast<int>(number(p, "jobs"));
    o.shifts = static_cast<int>(number(p, "shifts"));
    o.overlap = number(p, "overlap");
    o.broker = p.value("broker");
    o.brokerPasswordFile = p.value("broker-password-file");
    o.advertiseUrl = p.value("advertise-url");
    if (p.value("log-format") != "text" && p.value("log-format") != "json")
        throw UsageError{
            QString("--log-format is text or json, not '%1'").arg(p.value("log-format"))};
    o.jsonLog = p.value("log-format") == "json";
    if (!o.broker.isEmpty()) msplit::broker::parseRedisUrl(o.broker, o.brokerPasswordFile);
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    msplit::engine::relaunchWithPassiveThreads(argv);  // may execute the program again
    msplit::engine::prepareProcess();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("music-split-server");
    QCoreApplication::setApplicationVersion(MUSIC_SPLIT_VERSION);
    ServerOptions o;
    try {
        if (const int status = parseOptions(app.arguments(), o); status >= 0) return status;
    } catch (const UsageError& e) {
        std::fprintf(stderr, "music-split-server: %s\n", qPrintable(e.message));
        return msplit::exit_code::kUsage;
    } catch (const msplit::Error& e) {  // a broker URL or password file that cannot be used
        std::fprintf(stderr, "music-split-server: %s\n", e.what());
        return msplit::exit_code::kUsage;
    }
    msplit::initLogging(o.verbose, "", o.jsonLog);
    if (!QDir().mkpath(o.jobsDir)) {
        std::fprintf(stderr, "music-split-server: cannot create %s\n", qPrintable(o.jobsDir));
        return msplit::exit_code::kFailed;
    }
    msplit::engine::setThreads(o.threads);
    if (!o.broker.isEmpty()) {
        // A wrong password or database is a mistake to fix now; Redis down is waited out (503s
        // until it is back).
        if (const QString why = msplit::broker::probeBroker(o.broker, o.brokerPasswordFile);
            !why.isEmpty()) {
            std::fprintf(stderr, "music-split-server: %s\n", qPrintable(why));
            return msplit::exit_code::kFailed;
        }
    }

    msplit::server::ApiServer server(o);
    const quint16 port = server.listen();
    if (!port) {
        std::fprintf(stderr, "music-split-server: cannot listen on %s:%d\n", qPrintable(o.host),
                     o.port);
        return msplit::exit_code::kFailed;
    }
    // Tests and scripts read this line to learn the port.
    std::printf("listening on http://%s:%u\n", qPrintable(o.host), unsigned(port));
    std::fflush(stdout);
    spdlog::info("server: listening on {}:{}, models from {}, jobs in {}", o.host.toStdString(),
                 port, o.repo.toStdString(), o.jobsDir.toStdString());
    return app.exec();
}
