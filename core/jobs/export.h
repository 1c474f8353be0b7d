#pragma once
// Exporting a library result: chosen stems (or STEM + no_STEM) in a chosen format and name
// template, each file written atomically.
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

#include "core/audio/encoder.h"
#include "core/jobs/library.h"

namespace msplit {

// A lane of the player as heard: a stem (empty: the original song) and its gain on each side.
struct MixLane {
    QString stem;
    double left = 1, right = 1;
};

struct ExportOptions {
    QString destination;
    EncodeOptions encode;
    QStringList stems;  // which stems; with twoStems, ignored
    QString twoStems;   // non-empty: write STEM and no_STEM (the sum of the others)
    QString nameTemplate = "{track}/{stem}.{ext}";
    // The player's mix as heard, written as the stem "mix" after the chosen stems (empty: none).
    std::vector<MixLane> currentMix;
    double mixTempo = 1, mixSemitones = 0;  // of that mix, as the player stretches it
};

// The files an export would write, in order.
QStringList exportTargets(const JobRecord& record, const ExportOptions& options);
// Writes them; `progress` gets the fraction done and returns false to cancel. Throws Error.
QStringList exportStems(const JobRecord& record, const ExportOptions& options,
                        const std::function<bool(double)>& progress = {});

}  // namespace msplit
