#include "core/models/npm_package.h"

#include <archive.h>
#include <archive_entry.h>

#include <QDir>
#include <QProcess>
#include <QStandardPaths>

#include <memory>

#include "core/error.h"

namespace msplit {
namespace {

// npm's error report is long (a stack trace, a log path): keep its code and first message line.
std::string npmReason(const QString& output) {
    QString code, message;
    for (const QString& line : output.split('\n')) {
        if (!line.startsWith("npm error ")) continue;
        const QString rest = line.mid(10);
        if (rest.startsWith("code ")) {
            if (code.isEmpty()) code = rest.mid(5).trimmed();
        } else if (message.isEmpty() && !rest.isEmpty() && !rest[0].isSpace() &&
                   !rest.startsWith("syscall ") && !rest.startsWith("errno ")) {
            message = rest.trimmed();
        }
    }
    if (message.isEmpty()) message = output.right(300).trimmed();
    return ((code.isEmpty() ? "" : code + ": ") + message).toStdString();
}

}  // namespace

bool npmAvailable() {
    return !QStandardPaths::findExecutable("npm").isEmpty();
}

std::string npmPack(const std::string& spec, const std::string& dir, int timeoutMs) {
    const QString npm = QStandardPaths::findExecutable("npm");
    if (npm.isEmpty())
        throw Error(ErrorKind::NotFound, spec, "the npm command is not installed (package npm)");
    QProcess p;
    p.setWorkingDirectory(QString::fromStdString(dir));
    p.setProcessChannelMode(QProcess::MergedChannels);
    // --ignore-scripts: a package is data here, nothing of it runs. --prefer-offline: npm's own
    // cache answers a second time without the network.
    p.start(npm, {"pack", QString::fromStdString(spec), "--ignore-scripts", "--prefer-offline",
                  "--loglevel=error"});
    if (!p.waitForStarted())
        throw Error(ErrorKind::NotFound, spec,
                    "cannot start npm: " + p.errorString().toStdString());
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        throw Error(ErrorKind::Network, spec, "npm pack did not finish in time");
    }
    const QString out = QString::fromLocal8Bit(p.readAll()).trimmed();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        throw Error(ErrorKind::Network, spec,
                    "npm pack failed (is the npm registry reachable?): " + npmReason(out));
    // npm prints the file name last; the folder was empty before, so the one .tgz is it.
    const QStringList tgz = QDir(QString::fromStdString(dir)).entryList({"*.tgz"}, QDir::Files);
    if (tgz.size() != 1)
        throw Error(ErrorKind::Network, spec,
                    "npm pack wrote no package file: " + out.toStdString());
    return (QString::fromStdString(dir) + "/" + tgz.first()).toStdString();
}

std::string readTgzMember(const std::string& path, const std::string& member, size_t maxBytes) {
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
    auto fail = [&](const std::string& what) -> Error {
        const char* why = archive_error_string(a.get());
        return Error(ErrorKind::InvalidInput, path,
                     what + (why ? std::string(": ") + why : std::string()));
    };
    if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK)
        throw fail("not a readable .tgz package");
    archive_entry* entry = nullptr;
    for (;;) {
        const int r = archive_read_next_header(a.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK) throw fail("corrupt or truncated package");
        if (member != archive_entry_pathname(entry)) continue;
        if (archive_entry_filetype(entry) != AE_IFREG)
            throw Error(ErrorKind::InvalidInput, path, member + " is not a plain file");
        const la_int64_t size = archive_entry_size(entry);
        if (size < 0 || static_cast<uint64_t>(size) > maxBytes)
            throw Error(ErrorKind::InvalidInput, path, member + " is larger than expected");
        std::string data(static_cast<size_t>(size), '\0');
        size_t got = 0;
        while (got < data.size()) {
            const la_ssize_t n = archive_read_data(a.get(), data.data() + got, data.size() - got);
            if (n < 0) throw fail("corrupt or truncated package (in " + member + ")");
            if (n == 0) break;
            got += static_cast<size_t>(n);
        }
        if (got != data.size())
            throw Error(ErrorKind::InvalidInput, path,
                        "truncated package: " + member + " ends after " + std::to_string(got) +
                            " of " + std::to_string(data.size()) + " bytes");
        return data;
    }
    throw Error(ErrorKind::NotFound, path, "the package has no " + member);
}

}  // namespace msplit
