// music-split-cli analyze: the tempo, beats, key and chords of a folder of stems, as the track
// view shows them.
#include <QCommandLineParser>
#include <QJsonDocument>

#include <cstdio>

#include "app/cli/commands.h"
#include "app/exit_codes.h"
#include "core/error.h"
#include "core/jobs/song_analysis.h"

namespace msplit::cli {

int runAnalyze(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Print the tempo, key and chords of a folder of stems (as separate writes them, or a "
        "library result): beats from all stems, key and chords from all but the drums.");
    p.addHelpOption();
    p.addPositionalArgument("folder", "The stems' folder.", "DIR");
    p.addOption({"json", "Print the analysis as JSON (beat times and chord spans in seconds)."});
    if (const int status = parseCommand(p, args); status >= 0) return status;
    if (p.positionalArguments().size() != 1) {
        std::fprintf(stderr, "music-split-cli: give one folder of stems\n");
        return exit_code::kUsage;
    }
    try {
        const SongAnalysis a = analyzeStems(stemsInFolder(p.positionalArguments().first()));
        if (p.isSet("json")) {
            std::fputs(QJsonDocument(a.toJson()).toJson().constData(), stdout);
            return exit_code::kOk;
        }
        std::printf("Tempo: %.1f BPM (%zu beats)\n", a.beats.bpm, a.beats.beats.size());
        std::printf("Key: %s (confidence %.2f)\n", a.key.name().c_str(), a.key.confidence);
        std::printf("Chords:\n");
        for (const ChordSpan& c : a.chords)
            std::printf("  %2d:%04.1f  %s\n", int(c.start) / 60, c.start - 60 * (int(c.start) / 60),
                        c.chord.name().c_str());
        return exit_code::kOk;
    } catch (const Error& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.what());
        return exit_code::kFailed;
    }
}

}  // namespace msplit::cli
