#include "core/jobs/song_scan.h"

#include <QDirIterator>
#include <QFileInfo>

#include "core/audio/decoder.h"
#include "core/error.h"

namespace msplit {

SongScan scanForSongs(const QStringList& paths, const std::function<bool()>& stop) {
    QStringList files;
    for (const QString& p : paths) {
        if (QFileInfo(p).isDir()) {
            QDirIterator it(p, QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext())
                files << it.next();
        } else {
            files << p;
        }
    }
    files.sort();
    files.removeDuplicates();
    SongScan scan;
    for (const QString& f : files) {
        if (stop && stop()) break;
        try {
            probeAudio(f.toStdString());
            scan.songs << f;
        } catch (const Error&) {
            scan.skipped << QFileInfo(f).fileName();
        }
    }
    return scan;
}

}  // namespace msplit
