#pragma once
// Shared by the libFuzzer targets: the input as a file (for readers that take a path), written
// to one file per process under $TMPDIR and rewritten for every input.
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace msplit::fuzz {

// "$TMPDIR/music-split-fuzz-PID" + `suffix`: one name per process.
inline std::string tempPath(const std::string& suffix) {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/music-split-fuzz-" +
           std::to_string(getpid()) + suffix;
}

// Writes the input to `path`, replacing it.
inline void writeBytes(const std::string& path, const uint8_t* data, size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();  // the fuzzer's own set-up failed: stop rather than test nothing
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
}

inline std::string asFile(const uint8_t* data, size_t size, const char* suffix) {
    static const std::string path = tempPath(suffix);
    writeBytes(path, data, size);
    return path;
}

}  // namespace msplit::fuzz
