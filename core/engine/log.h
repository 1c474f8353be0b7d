#pragma once
// The engine logs through one callback so it needs no logging library; the app wires it to spdlog.
#include <functional>
#include <string>

namespace msplit::engine {

enum class LogLevel { Debug, Info, Warning, Error };
using LogCallback = std::function<void(LogLevel, const std::string&)>;

// Replaces the callback (thread-safe). An empty callback silences the engine.
void setLogCallback(LogCallback callback);
void log(LogLevel level, const std::string& message);

}  // namespace msplit::engine
