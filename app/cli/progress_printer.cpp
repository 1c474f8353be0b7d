#include "app/cli/progress_printer.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace msplit::cli {

std::string formatDuration(double seconds) {
    if (seconds < 0) return "--:--";
    const auto s = static_cast<long>(std::lround(seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

ProgressPrinter::ProgressPrinter(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO)) {}

void ProgressPrinter::operator()(const engine::Progress& p) {
    const int percent = static_cast<int>(p.fraction() * 100);
    if (tty_) {
        const int width = 30, filled = static_cast<int>(p.fraction() * width);
        std::fprintf(stderr, "\r%s [%s%s] %3d%% %lld/%lld segments, elapsed %s, ETA %s ",
                     label_.c_str(), std::string(static_cast<size_t>(filled), '#').c_str(),
                     std::string(static_cast<size_t>(width - filled), ' ').c_str(), percent,
                     static_cast<long long>(p.done), static_cast<long long>(p.total),
                     formatDuration(p.elapsedSeconds).c_str(),
                     formatDuration(p.etaSeconds).c_str());
    } else if (percent / 10 != lastPercent_ / 10 || p.done == p.total) {
        std::fprintf(stderr, "%s: %d%% (%lld/%lld segments, ETA %s)\n", label_.c_str(), percent,
                     static_cast<long long>(p.done), static_cast<long long>(p.total),
                     formatDuration(p.etaSeconds).c_str());
    }
    lastPercent_ = percent;
    std::fflush(stderr);
}

void ProgressPrinter::finish() {
    if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace msplit::cli
