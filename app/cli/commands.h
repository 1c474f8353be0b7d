#pragma once
// The subcommands of music-split-cli. Each takes its own arguments (argv[0] is the command name)
// and returns the process exit status.
#include <QStringList>

namespace msplit::cli {

int runSeparate(const QStringList& args);
int runBench(const QStringList& args);

}  // namespace msplit::cli
