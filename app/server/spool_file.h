#pragma once
// A file in the server's spool folder that holds a request body, or an uploaded file taken out of
// it, while the request is checked. It is removed when dropped unless it was moved into place
// (a rename on the same disk), so a refused or broken upload leaves nothing behind.
#include <QDir>
#include <QString>
#include <QTemporaryFile>

#include <unistd.h>
#include <cstdio>

namespace msplit::server {

class SpoolFile {
public:
    // Creates an empty file in `folder` (made when missing); ok() is false when it cannot.
    explicit SpoolFile(const QString& folder) : file_(folder + "/spool-XXXXXX") {
        file_.setAutoRemove(false);  // removed here, unless moved
        if (QDir().mkpath(folder) && file_.open()) path_ = file_.fileName();
    }
    ~SpoolFile() {
        file_.close();
        if (!path_.isEmpty() && !moved_) QFile::remove(path_);
    }
    SpoolFile(const SpoolFile&) = delete;
    SpoolFile& operator=(const SpoolFile&) = delete;

    bool ok() const { return !path_.isEmpty(); }
    QFile& file() { return file_; }
    const QString& path() const { return path_; }
    // Writes all of `data`; false when the disk took less (full).
    bool write(const char* data, qint64 size) { return file_.write(data, size) == size; }
    // Flushed, synced and renamed over `target` (replacing it at once); false when any step fails.
    bool moveTo(const QString& target) {
        if (!file_.flush() || ::fsync(file_.handle()) != 0) return false;
        file_.close();
        moved_ = std::rename(QFile::encodeName(path_).constData(),
                             QFile::encodeName(target).constData()) == 0;
        return moved_;
    }

private:
    QTemporaryFile file_;
    QString path_;
    bool moved_ = false;
};

}  // namespace msplit::server
