#include "core/engine/log.h"

#include <iostream>
#include <mutex>

namespace msplit::engine {
namespace {

std::mutex& logMutex() {
    static std::mutex mutex;
    return mutex;
}

LogCallback& callback() {
    // Until the app installs its own, warnings and errors go to stderr.
    static LogCallback cb = [](LogLevel level, const std::string& message) {
        if (level >= LogLevel::Warning) std::cerr << "music-split engine: " << message << "\n";
    };
    return cb;
}

}  // namespace

void setLogCallback(LogCallback cb) {
    std::lock_guard<std::mutex> lock(logMutex());
    callback() = std::move(cb);
}

void log(LogLevel level, const std::string& message) {
    std::lock_guard<std::mutex> lock(logMutex());
    if (callback()) callback()(level, message);
}

}  // namespace msplit::engine
