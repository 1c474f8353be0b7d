// music-split-cli: separation, benchmarks and model management from the command line.
#include <QCoreApplication>

#include <csignal>
#include <cstdio>

#include "app/cli/commands.h"
#include "app/exit_codes.h"
#include "core/engine/engine.h"
#include "core/log/logging.h"

namespace {

const char* kUsage =
    "usage: music-split-cli [--verbose] COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  separate INPUT... [-o OUT] [-n NAME] ...   split songs into stems (see separate --help)\n"
    "  mix DIR -o OUT [--mute STEM] [--tempo R] ...  mix a folder of stems (see mix --help)\n"
    "  analyze DIR [--json]                      tempo, beats, key and chords of stems\n"
    "  bench [--config htdemucs] [--seconds N]    time a full-size model with random weights\n"
    "  bench-player [--minutes 60]                time opening and seeking a long song\n"
    "  models [list|download|import|verify|remove] manage the model cache\n"
    "\n"
    "  --version   print the version\n"
    "  --help      print this help\n";

}  // namespace

int main(int argc, char** argv) {
    msplit::engine::relaunchWithPassiveThreads(argv);  // may execute the program again
    msplit::engine::prepareProcess();  // before any thread starts, so that it has one heap
    // A reader that goes away (`--stdout ... | head`) is a write error to report, not a kill.
    std::signal(SIGPIPE, SIG_IGN);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("music-split-cli");
    QCoreApplication::setApplicationVersion(MUSIC_SPLIT_VERSION);
    QStringList args = app.arguments().mid(1);
    bool verbose = false;
    while (!args.isEmpty() && args.first().startsWith("-")) {
        const QString a = args.takeFirst();
        if (a == "--version" || a == "-V") {
            std::printf("music-split-cli %s\n", MUSIC_SPLIT_VERSION);
            return msplit::exit_code::kOk;
        }
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return msplit::exit_code::kOk;
        }
        if (a == "--verbose" || a == "-v") {
            verbose = true;
            continue;
        }
        std::fprintf(stderr, "music-split-cli: unknown option %s\n%s", qPrintable(a), kUsage);
        return msplit::exit_code::kUsage;
    }
    if (args.isEmpty()) {
        std::fputs(kUsage, stderr);
        return msplit::exit_code::kUsage;
    }
    msplit::initLogging(verbose);
    const QString command = args.first();
    if (command == "separate") return msplit::cli::runSeparate(args);
    if (command == "mix") return msplit::cli::runMix(args);
    if (command == "analyze") return msplit::cli::runAnalyze(args);
    if (command == "bench") return msplit::cli::runBench(args);
    if (command == "bench-player") return msplit::cli::runBenchPlayer(args);
    if (command == "models") return msplit::cli::runModels(args);
    std::fprintf(stderr, "music-split-cli: unknown command '%s'\n%s", qPrintable(command), kUsage);
    return msplit::exit_code::kUsage;
}
