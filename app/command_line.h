#pragma once
// Command-line parsing shared by every program, so each answers alike: a refused command line
// exits 2 with one line on stderr, --help and --version print and exit 0 (app/exit_codes.h).
#include <QCommandLineParser>
#include <QStringList>

namespace msplit {

// Parses `args` (args[0] is the program). Returns -1 to go on, or the exit status when parsing
// already answered. `name` starts the error line ("music-split-cli: unknown option 'x'");
// `hasVersion`: the parser has addVersionOption().
int parseCommandLine(QCommandLineParser& p, const QStringList& args, const QString& name,
                     bool hasVersion = false);

}  // namespace msplit
