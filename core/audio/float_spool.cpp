#include "core/audio/float_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace msplit {
namespace {

std::string reason(int err) {
    return std::string(std::strerror(err)) + (err == ENOSPC ? " (disk full)" : "");
}

}  // namespace

FloatSpool::FloatSpool(const std::string& dir, int channels) : dir_(dir), channels_(channels) {
    std::string pattern = (dir.empty() ? std::string(".") : dir) + "/.music-split-spool.XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    fd_ = mkstemp(name.data());
    if (fd_ < 0)
        throw Error(ErrorKind::Io, dir, "cannot create a temporary file: " + reason(errno));
    unlink(name.data());  // the file lives while it is open, and no longer
}

FloatSpool::~FloatSpool() {
    if (fd_ >= 0) close(fd_);
}

void FloatSpool::append(const float* planar, int64_t frames) {
    if (frames <= 0) return;
    const int64_t count = frames * channels_;
    for (int64_t i = 0; i < count; ++i)
        peak_ = std::max(peak_, std::abs(planar[i]));
    // A record: the frame count, then the planar samples.
    const auto put = [&](const void* data, size_t bytes) {
        const char* p = static_cast<const char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::write(fd_, p, bytes);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                throw Error(ErrorKind::Io, dir_, "cannot write a temporary file: " + reason(errno));
            p += n;
            bytes -= static_cast<size_t>(n);
        }
    };
    put(&frames, sizeof frames);
    put(planar, static_cast<size_t>(count) * sizeof(float));
    frames_ += frames;
}

void FloatSpool::replay(const std::function<void(const float*, int64_t)>& block) const {
    int64_t offset = 0;
    const auto get = [&](void* data, size_t bytes) {
        char* p = static_cast<char*>(data);
        while (bytes > 0) {
            const ssize_t n = ::pread(fd_, p, bytes, offset);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                throw Error(ErrorKind::Io, dir_,
                            "cannot read a temporary file back: " +
                                (n == 0 ? "it is shorter" : reason(errno)));
            p += n;
            offset += n;
            bytes -= static_cast<size_t>(n);
        }
    };
    std::vector<float> samples;
    for (int64_t done = 0; done < frames_;) {
        int64_t n = 0;
        get(&n, sizeof n);
        if (n <= 0 || done + n > frames_)
            throw Error(ErrorKind::Io, dir_, "a temporary file was changed while in use");
        samples.resize(static_cast<size_t>(n * channels_));
        get(samples.data(), samples.size() * sizeof(float));
        block(samples.data(), n);
        done += n;
    }
}

}  // namespace msplit
