#pragma once
// The subcommands of music-split-cli. Each takes its own arguments (argv[0] is the command name)
// and returns the process exit status.
#include <QStringList>

#include <string>

#include "core/audio/encoder.h"

class QCommandLineParser;

namespace msplit::cli {

int runSeparate(const QStringList& args);
int runBench(const QStringList& args);
int runBenchPlayer(const QStringList& args);
int runModels(const QStringList& args);
int runMix(const QStringList& args);
int runAnalyze(const QStringList& args);

// Parses a subcommand's arguments (args[0] is its name). Returns -1 to go on, or the exit status
// when the command is done: 0 after --help, 2 after printing a parse error.
int parseCommand(QCommandLineParser& p, const QStringList& args);

// A refused command line (exit status 2); other errors are the work's (status 1).
struct UsageError {
    std::string message;
};
// `text` as a number, or UsageError naming --`option`.
double parseNumber(const QString& text, const QString& option);

// --clip-mode's value (rescale, clamp or none), or UsageError.
ClipMode parseClipMode(const QString& text);

// "TEXT (default: VALUE)." for an option's help.
QString withDefault(const QString& text, double value);

// Where models come from: --catalog, --base-url and --cache (shared by separate and models).
struct ModelSource {
    std::string catalog;  // empty: the shipped catalog
    std::string baseUrl;  // empty: the catalog's
    std::string cache;
};
void addModelSourceOptions(QCommandLineParser& p);
ModelSource modelSource(const QCommandLineParser& p);
// Makes a catalog model usable from the cache, downloading it (with progress) when allowed.
// Names the catalog does not know are left to the repository. Throws Error.
void ensureModel(const ModelSource& src, const std::string& name, bool download);

}  // namespace msplit::cli
