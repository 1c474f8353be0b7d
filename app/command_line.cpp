#include "app/command_line.h"

#include <cstdio>

#include "app/exit_codes.h"

namespace msplit {

int parseCommandLine(QCommandLineParser& p, const QStringList& args, const QString& name,
                     bool hasVersion) {
    if (!p.parse(args)) {
        std::fprintf(stderr, "%s: %s\n", qPrintable(name), qPrintable(p.errorText()));
        return exit_code::kUsage;
    }
    if (p.isSet("help")) {
        std::fputs(qPrintable(p.helpText()), stdout);
        return exit_code::kOk;
    }
    if (hasVersion && p.isSet("version")) {
        std::printf("%s %s\n", qPrintable(name), MUSIC_SPLIT_VERSION);
        return exit_code::kOk;
    }
    return -1;
}

}  // namespace msplit
