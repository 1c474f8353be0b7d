#pragma once
// The results library: one folder per finished separation under the data directory, holding the
// stems and a job.json (source, model, settings, timings). Folders appear only when complete:
// a job writes into a hidden temporary folder that is renamed at the end.
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace msplit {

struct JobRecord {
    QString id;         // the folder's name
    QString folder;     // absolute path
    QString source;     // the song's file
    QString sourceUrl;  // the web page it was downloaded from, if any
    QString title;
    QString model;
    QStringList stems;
    QString extension;  // of the stem files: flac or wav
    double durationSeconds = 0;
    double separationSeconds = 0;
    double gain = 1;  // stems were multiplied by this to stay below full scale
    QDateTime created;
    QJsonObject settings;
    // The player's practice state for this song, restored when it is opened again: tempo,
    // semitones, loop, markers (written by the track view; see ui/track_view.cpp).
    QJsonObject practice;

    QString stemFile(const QString& stem) const { return folder + "/" + stem + "." + extension; }
    // Where a stem's waveform peaks are kept (empty `stem`: the original's).
    QString peaksFile(const QString& stem) const { return peaksFile(folder, stem); }
    static QString peaksFile(const QString& folder, const QString& stem) {
        return folder + "/.waveform/" + (stem.isEmpty() ? QString("original") : "stem-" + stem) +
               ".peaks";
    }
    QJsonObject toJson() const;
    static JobRecord fromJson(const QJsonObject& o, const QString& folder);
};

// Writes `record`'s job.json again (atomically), e.g. with new practice settings. Throws Error
// (Io).
void rewriteRecord(const JobRecord& record);

class Library {
public:
    explicit Library(QString root);  // created on first write

    const QString& root() const { return root_; }
    // Every complete result, newest first; unreadable folders are skipped.
    QList<JobRecord> load() const;
    // A new, empty temporary folder for a job's files. Throws Error (Io).
    QString beginJob(const QString& title, QString* id) const;
    // Writes job.json and moves the temporary folder into place. Throws Error (Io).
    JobRecord commitJob(const QString& tempFolder, JobRecord record) const;
    // Removes the temporary folders of jobs whose process was killed (nothing written in them
    // for `idleSeconds`); returns how many.
    int removeStrays(qint64 idleSeconds = 3600) const;
    // Removes a temporary folder (a failed or cancelled job).
    void abandonJob(const QString& tempFolder) const;
    // Deletes a result.
    bool remove(const JobRecord& record) const;

private:
    QString root_;
};

// $XDG_DATA_HOME/music-split/library
QString defaultLibraryRoot();

}  // namespace msplit
