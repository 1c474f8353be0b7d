#pragma once
// Logging for the apps: spdlog to the console and to a rotating file in the XDG state folder,
// with Qt's messages and the engine's log callback routed into it.
#include <string>

namespace msplit {

// Safe to call more than once (the last call wins). `logDir` empty: paths::stateDir().
// `json`: the console gets every line from info up, one JSON object each ({"time", "level",
// "message", and "request_id" while a request is served}), for log collectors; for servers.
void initLogging(bool verbose, const std::string& logDir = "", bool json = false);

// The request the calling thread serves, named in its JSON log lines until the guard ends.
class LogRequestId {
public:
    explicit LogRequestId(std::string id);
    ~LogRequestId();
    LogRequestId(const LogRequestId&) = delete;
    LogRequestId& operator=(const LogRequestId&) = delete;

private:
    std::string previous_;
};
// The log file in use, or empty when it could not be opened.
std::string logFilePath();

}  // namespace msplit
