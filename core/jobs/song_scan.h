#pragma once
// What a drop or an Open holds: files, and folders searched recursively, each file probed with
// FFmpeg. Slow for big folders (a probe each), so callers run it off the UI thread.
#include <QStringList>

#include <functional>

namespace msplit {

struct SongScan {
    QStringList songs;    // readable audio, sorted by path
    QStringList skipped;  // file names of what FFmpeg cannot read as audio
};

// `stop`, when given, is asked between files; a scan it stops returns what it found so far.
SongScan scanForSongs(const QStringList& paths, const std::function<bool()>& stop = {});

}  // namespace msplit
