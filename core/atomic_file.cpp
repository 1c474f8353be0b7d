#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace msplit {
namespace {

// mkstemps creates 0600 files; the result should have the permissions any new file gets.
mode_t newFileMode() {
    static const mode_t mask = [] {
        const mode_t m = umask(022);
        umask(m);
        return m;
    }();
    return 0666 & ~mask;
}

}  // namespace

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
    const auto slash = target_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : target_.substr(0, slash);
    const std::string name = slash == std::string::npos ? target_ : target_.substr(slash + 1);
    std::string pattern = dir + "/." + name + ".XXXXXX.part";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const int fd = mkstemps(buf.data(), 5);
    if (fd < 0)
        throw Error(ErrorKind::Io, target_,
                    std::string("cannot create a file in its folder: ") + std::strerror(errno));
    fchmod(fd, newFileMode());
    close(fd);
    temp_ = buf.data();
}

AtomicFile::~AtomicFile() {
    if (!committed_) std::remove(temp_.c_str());
}

void AtomicFile::commitAs(const std::string& target) {
    target_ = target;
    commit();
}

void AtomicFile::commit() {
    const int fd = open(temp_.c_str(), O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        const int err = errno;
        if (fd >= 0) close(fd);
        throw Error(ErrorKind::Io, target_,
                    std::string("cannot flush the file to disk: ") + std::strerror(err));
    }
    close(fd);
    if (std::rename(temp_.c_str(), target_.c_str()) != 0)
        throw Error(ErrorKind::Io, target_,
                    std::string("cannot move the file into place: ") + std::strerror(errno));
    committed_ = true;
}

}  // namespace msplit
