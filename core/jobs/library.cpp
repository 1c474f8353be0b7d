#include "core/jobs/library.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include "core/error.h"
#include "core/file_names.h"
#include "core/paths.h"

namespace msplit {

QJsonObject JobRecord::toJson() const {
    return {{"source", source},
            {"source_url", sourceUrl},
            {"title", title},
            {"model", model},
            {"stems", QJsonArray::fromStringList(stems)},
            {"extension", extension},
            {"duration", durationSeconds},
            {"separation_seconds", separationSeconds},
            {"gain", gain},
            {"created", created.toString(Qt::ISODate)},
            {"settings", settings},
            {"practice", practice}};
}

JobRecord JobRecord::fromJson(const QJsonObject& o, const QString& folder) {
    JobRecord r;
    r.folder = folder;
    r.id = QDir(folder).dirName();
    r.source = o["source"].toString();
    r.sourceUrl = o["source_url"].toString();
    r.title = o["title"].toString();
    r.model = o["model"].toString();
    for (const auto& s : o["stems"].toArray())
        r.stems << s.toString();
    r.extension = o["extension"].toString();
    r.durationSeconds = o["duration"].toDouble();
    r.separationSeconds = o["separation_seconds"].toDouble();
    r.gain = o["gain"].toDouble(1.0);
    r.created = QDateTime::fromString(o["created"].toString(), Qt::ISODate);
    r.settings = o["settings"].toObject();
    r.practice = o["practice"].toObject();
    return r;
}

namespace {

// `record` as `folder`/job.json, atomically.
void writeJobJson(const QString& folder, const JobRecord& record) {
    QSaveFile f(folder + "/job.json");
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(record.toJson()).toJson()) < 0 ||
        !f.commit())
        throw Error(ErrorKind::Io, folder.toStdString(), "cannot write job.json");
}

}  // namespace

void rewriteRecord(const JobRecord& record) {
    writeJobJson(record.folder, record);
}

Library::Library(QString root) : root_(std::move(root)) {}

QString defaultLibraryRoot() {
    return QString::fromStdString(paths::dataDir()) + "/library";
}

QList<JobRecord> Library::load() const {
    QList<JobRecord> out;
    for (const QFileInfo& d :
         QDir(root_).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        QFile f(d.absoluteFilePath() + "/job.json");
        if (!f.open(QIODevice::ReadOnly)) continue;
        const QJsonDocument doc = QJsonDocument::fromJson(f.readAll());
        if (!doc.isObject()) continue;
        JobRecord r = JobRecord::fromJson(doc.object(), d.absoluteFilePath());
        bool complete = !r.stems.isEmpty() && !r.extension.isEmpty();
        for (const QString& s : r.stems)
            complete = complete && QFile::exists(r.stemFile(s));
        if (complete) out << r;
    }
    std::sort(out.begin(), out.end(),
              [](const JobRecord& a, const JobRecord& b) { return a.created > b.created; });
    return out;
}

QString Library::beginJob(const QString& title, QString* id) const {
    // Any script is kept (a Japanese title stays readable); separators and reserved characters
    // are not.
    const QString slug = title.trimmed().isEmpty() ? QString("song") : safeFileName(title, 60);
    const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss");
    if (!QDir().mkpath(root_))
        throw Error(ErrorKind::Io, root_.toStdString(), "cannot create the library folder");
    // mkdir either creates the temporary folder or fails because it exists: two jobs of the
    // same title in the same second (other threads, other processes) never share one.
    const QDir root(root_);
    for (int n = 1; n < 10000; ++n) {
        const QString name = stamp + "-" + slug + (n > 1 ? "-" + QString::number(n) : "");
        if (root.exists(name) || !root.mkdir("." + name + ".tmp")) continue;
        *id = name;
        return root_ + "/." + name + ".tmp";
    }
    throw Error(ErrorKind::Io, root_.toStdString(), "cannot create the result folder");
}

int Library::removeStrays(qint64 idleSeconds) const {
    // Temporary job folders of a process that was killed: nothing in them has been written for
    // a while (a running job's spools are written all along).
    const QDateTime limit = QDateTime::currentDateTime().addSecs(-idleSeconds);
    int removed = 0;
    for (const QFileInfo& d :
         QDir(root_).entryInfoList({".*.tmp"}, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot)) {
        QDateTime newest = d.lastModified();
        QDirIterator it(d.absoluteFilePath(),
                        QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            it.next();
            newest = std::max(newest, it.fileInfo().lastModified());
        }
        if (newest < limit && QDir(d.absoluteFilePath()).removeRecursively()) ++removed;
    }
    return removed;
}

JobRecord Library::commitJob(const QString& tempFolder, JobRecord record) const {
    writeJobJson(tempFolder, record);
    const QString final = root_ + "/" + record.id;
    if (!QDir().rename(tempFolder, final))
        throw Error(ErrorKind::Io, final.toStdString(), "cannot move the result into the library");
    record.folder = final;
    return record;
}

void Library::abandonJob(const QString& tempFolder) const {
    if (QDir(tempFolder).dirName().endsWith(".tmp")) QDir(tempFolder).removeRecursively();
}

bool Library::remove(const JobRecord& record) const {
    return !record.folder.isEmpty() && QDir(record.folder).removeRecursively();
}

}  // namespace msplit
