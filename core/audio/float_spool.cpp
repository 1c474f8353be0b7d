#include "core/audio/float_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

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
    // Interleaved on disk, so that any frame is one read away (a listener seeks anywhere).
    interleaved_.resize(static_cast<size_t>(frames * channels_));
    for (int c = 0; c < channels_; ++c)
        for (int64_t i = 0; i < frames; ++i) {
            const float x = planar[c * frames + i];
            peak_ = std::max(peak_, std::abs(x));
            interleaved_[static_cast<size_t>(i * channels_ + c)] = x;
        }
    const int64_t start = frames_.load(std::memory_order_relaxed);
    const char* p = reinterpret_cast<const char*>(interleaved_.data());
    size_t bytes = interleaved_.size() * sizeof(float);
    off_t offset = static_cast<off_t>(start * channels_ * int64_t(sizeof(float)));
    while (bytes > 0) {
        const ssize_t n = ::pwrite(fd_, p, bytes, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw Error(ErrorKind::Io, dir_, "cannot write a temporary file: " + reason(errno));
        p += n;
        offset += n;
        bytes -= static_cast<size_t>(n);
    }
    frames_.store(start + frames, std::memory_order_release);
}

int64_t FloatSpool::readAt(int64_t frame, float* out, int64_t count) const {
    const int64_t n = std::clamp<int64_t>(frames() - frame, 0, std::max<int64_t>(count, 0));
    char* p = reinterpret_cast<char*>(out);
    size_t bytes = static_cast<size_t>(n * channels_) * sizeof(float);
    off_t offset = static_cast<off_t>(frame * channels_ * int64_t(sizeof(float)));
    while (bytes > 0) {
        const ssize_t got = ::pread(fd_, p, bytes, offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            throw Error(ErrorKind::Io, dir_,
                        "cannot read a temporary file back: " +
                            (got == 0 ? std::string("it is shorter") : reason(errno)));
        p += got;
        offset += got;
        bytes -= static_cast<size_t>(got);
    }
    return n;
}

void FloatSpool::replay(const std::function<void(const float*, int64_t)>& block) const {
    constexpr int64_t kBlock = 1 << 16;
    std::vector<float> interleaved(static_cast<size_t>(kBlock * channels_)), planar;
    const int64_t total = frames();
    for (int64_t done = 0; done < total;) {
        const int64_t n = readAt(done, interleaved.data(), std::min(kBlock, total - done));
        planar.resize(static_cast<size_t>(n * channels_));
        for (int c = 0; c < channels_; ++c)
            for (int64_t i = 0; i < n; ++i)
                planar[static_cast<size_t>(c * n + i)] =
                    interleaved[static_cast<size_t>(i * channels_ + c)];
        block(planar.data(), n);
        done += n;
    }
}

}  // namespace msplit
