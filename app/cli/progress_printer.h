#pragma once
// Shows engine progress: a one-line bar on a terminal, plain lines otherwise (logs, pipes).
#include <string>

#include "core/engine/engine.h"

namespace msplit::cli {

class ProgressPrinter {
public:
    explicit ProgressPrinter(std::string label);
    void operator()(const engine::Progress& p);
    void finish();

private:
    std::string label_;
    bool tty_;
    int lastPercent_ = -1;
};

std::string formatDuration(double seconds);

}  // namespace msplit::cli
