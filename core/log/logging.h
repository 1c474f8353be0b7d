#pragma once
// Logging for the apps: spdlog to the console and to a rotating file in the XDG state folder,
// with Qt's messages and the engine's log callback routed into it.
#include <string>

namespace msplit {

// Safe to call more than once (the last call wins). `logDir` empty: paths::stateDir().
void initLogging(bool verbose, const std::string& logDir = "");
// The log file in use, or empty when it could not be opened.
std::string logFilePath();

}  // namespace msplit
