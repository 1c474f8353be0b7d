#pragma once
// A separation still running, as the track view plays it: the stems' frames as far as they are
// separated (spools on disk, read at any frame) and their waveform peaks, growing together. The
// spools stay readable while this is held, even after the job has written its files.
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

#include "core/audio/float_spool.h"
#include "core/audio/peaks.h"

namespace msplit {

struct LiveSong {
    QString title;
    QString source;  // the song itself (its peaks are complete: the first pass made them)
    QStringList stems;
    int64_t frames = 0;  // the song's length; the stems reach it when the job is done
    std::vector<std::shared_ptr<const FloatSpool>> spools;  // one per stem
    std::vector<std::shared_ptr<const PeakCache>> peaks;    // one per stem
    std::shared_ptr<const PeakCache> mixPeaks;
};

}  // namespace msplit
