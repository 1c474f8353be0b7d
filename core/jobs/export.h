#pragma once
// Exporting a library result: chosen stems (or STEM + no_STEM) in a chosen format and name
// template, each file written atomically.
#include <QString>
#include <QStringList>

#include <functional>

#include "core/audio/encoder.h"
#include "core/jobs/library.h"

namespace msplit {

struct ExportOptions {
    QString destination;
    EncodeOptions encode;
    QStringList stems;  // which stems; with twoStems, ignored
    QString twoStems;   // non-empty: write STEM and no_STEM (the sum of the others)
    QString nameTemplate = "{track}/{stem}.{ext}";
    // The player's mix as heard, written as the stem "mix" after the chosen stems (may be empty).
    AudioBuffer currentMix;
};

// The files an export would write, in order.
QStringList exportTargets(const JobRecord& record, const ExportOptions& options);
// Writes them; `progress` gets the fraction done and returns false to cancel. Throws Error.
QStringList exportStems(const JobRecord& record, const ExportOptions& options,
                        const std::function<bool(double)>& progress = {});

}  // namespace msplit
