// music-split-worker: separates the jobs a music-split-server --broker node queues in Redis, on
// this machine's engine (a GPU box, typically). Any number may run, on any machines that reach
// Redis and the API node; they share no folder with it. Stops cleanly on SIGTERM/SIGINT (a job it
// was running goes to another worker after the visibility timeout).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QHostInfo>

#include <atomic>
#include <csignal>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "app/command_line.h"
#include "app/exit_codes.h"
#include "app/worker/worker.h"
#include "core/broker/redis_client.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/log/logging.h"
#include "core/paths.h"

namespace {

std::atomic<bool> stopRequested{false};

void onSignal(int) {
    stopRequested = true;
}

int fail(const QString& message, int status) {
    std::fprintf(stderr, "music-split-worker: %s\n", qPrintable(message));
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    msplit::engine::relaunchWithPassiveThreads(argv);  // may execute the program again
    msplit::engine::prepareProcess();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("music-split-worker");
    QCoreApplication::setApplicationVersion(MUSIC_SPLIT_VERSION);
    const auto defaults = msplit::engine::defaultOptions();
    QCommandLineParser p;
    p.setApplicationDescription(
        "Separates the jobs of a music-split-server started with --broker (see README).");
    p.addHelpOption();
    p.addVersionOption();
    p.addOptions({
        {"broker", "Redis of the API node: redis://[:PASSWORD@]HOST[:PORT][/DB].", "URL"},
        {"broker-password-file", "Read Redis' password from this file's first line.", "FILE"},
        {"repo", "Model repository folder (as demucs --repo).", "DIR"},
        {"cache", "Model cache folder (same as --repo).", "DIR",
         QString::fromStdString(msplit::paths::modelRepo())},
        {"device", "auto, cpu, cuda or cuda:N.", "D", msplit::engine::kDefaultDevice},
        {{"j", "jobs"}, "CPU threads (default: all cores).", "N", "0"},
        {"shifts",
         QString("Random shifts per song, 0: repeatable (default: %1).").arg(defaults.shifts), "N",
         QString::number(defaults.shifts)},
        {"overlap", QString("Overlap of segments (default: %1).").arg(defaults.overlap), "F",
         QString::number(defaults.overlap)},
        {"jobs-dir", "Scratch folder for songs and stems while they are worked on.", "DIR",
         QString::fromStdString(msplit::paths::dataDir()) + "/worker-jobs"},
        {"name", "This worker's name in the group (default: HOST-PID); unique per worker.", "N"},
        {"visibility-timeout",
         "Seconds a job of a silent worker waits before another worker takes it.", "S", "60"},
        {"max-attempts", "Deliveries of one job before it is reported as failed.", "N", "3"},
        {"verbose", "More logging."},
    });
    if (const int status = msplit::parseCommandLine(p, app.arguments(), "music-split-worker", true);
        status >= 0)
        return status;
    msplit::worker::WorkerOptions o;
    o.broker = p.value("broker");
    o.brokerPasswordFile = p.value("broker-password-file");
    o.repo = p.isSet("repo") ? p.value("repo") : p.value("cache");
    o.device = p.value("device");
    o.jobsDir = QDir(p.value("jobs-dir")).absolutePath();
    o.name = p.isSet("name")
                 ? p.value("name")
                 : QString("%1-%2").arg(QHostInfo::localHostName()).arg(app.applicationPid());
    bool ok[5] = {};
    o.threads = p.value("jobs").toInt(&ok[0]);
    o.shifts = p.value("shifts").toInt(&ok[1]);
    o.overlap = p.value("overlap").toDouble(&ok[2]);
    o.visibilitySeconds = p.value("visibility-timeout").toInt(&ok[3]);
    o.maxAttempts = p.value("max-attempts").toInt(&ok[4]);
    if (!std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; }) || o.threads < 0 ||
        o.shifts < 0 || o.visibilitySeconds < 5 || o.maxAttempts < 1)
        return fail(
            "--jobs, --shifts, --overlap, --visibility-timeout (5 s or more) and "
            "--max-attempts expect numbers",
            msplit::exit_code::kUsage);
    if (o.broker.isEmpty()) return fail("--broker is required", msplit::exit_code::kUsage);
    try {  // a URL or password file that cannot be used is a usage error, as for the server
        msplit::broker::parseRedisUrl(o.broker, o.brokerPasswordFile);
    } catch (const msplit::Error& e) {
        return fail(QString::fromUtf8(e.what()), msplit::exit_code::kUsage);
    }
    if (o.name.contains(QRegularExpression("[^A-Za-z0-9_.@-]")) || o.name.size() > 100)
        return fail("--name takes letters, digits and _.@- only", msplit::exit_code::kUsage);
    msplit::initLogging(p.isSet("verbose"));
    if (!QDir().mkpath(o.jobsDir))
        return fail("cannot create " + o.jobsDir, msplit::exit_code::kFailed);
    // What a previous run of this worker left (killed mid-job): its jobs are others' now.
    for (const QFileInfo& f : QDir(o.jobsDir).entryInfoList({"job-*"}, QDir::Dirs))
        QDir(f.filePath()).removeRecursively();
    try {
        if (const QString why = msplit::broker::probeBroker(o.broker, o.brokerPasswordFile);
            !why.isEmpty())
            return fail(why, msplit::exit_code::kFailed);
        msplit::engine::setThreads(o.threads);
        std::signal(SIGTERM, onSignal);
        std::signal(SIGINT, onSignal);
        msplit::worker::Worker worker(o);
        std::printf("worker %s ready\n", qPrintable(o.name));  // tests wait for this line
        std::fflush(stdout);
        spdlog::info("worker: {} takes jobs from {}, models from {}", o.name.toStdString(),
                     msplit::broker::parseRedisUrl(o.broker, o.brokerPasswordFile).display(),
                     o.repo.toStdString());
        worker.run(stopRequested);
    } catch (const msplit::Error& e) {
        return fail(QString::fromUtf8(e.what()), msplit::exit_code::kUsage);
    }
    return msplit::exit_code::kOk;
}
