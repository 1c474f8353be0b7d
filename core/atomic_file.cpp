#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "core/error.h"

namespace msplit {

AtomicFile::AtomicFile(std::string target) : target_(std::move(target)) {
    const auto slash = target_.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : target_.substr(0, slash);
    const std::string name = slash == std::string::npos ? target_ : target_.substr(slash + 1);
    // Created with O_EXCL under a random name, mode 0666 less the process's umask as the kernel
    // applies it (mkstemp's 0600 would need umask() to widen, which races other threads).
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    for (int attempt = 0;; ++attempt) {
        char suffix[16];
        std::snprintf(suffix, sizeof suffix, "%08x", entropy() ^ (counter++ * 2654435761u));
        const std::string path = dir + "/." + name + "." + suffix + ".part";
        const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            temp_ = path;
            return;
        }
        if (errno != EEXIST || attempt >= 100)
            throw Error(ErrorKind::Io, target_,
                        std::string("cannot create a file in its folder: ") + std::strerror(errno));
    }
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
