#include "core/paths.h"

#include <QDir>
#include <QStandardPaths>

namespace msplit::paths {
namespace {

std::string xdg(const char* var, const char* fallback) {
    QString base = qEnvironmentVariable(var);
    if (base.isEmpty()) base = QDir::homePath() + "/" + fallback;
    return (base + "/music-split").toStdString();
}

}  // namespace

std::string modelRepo() {
    const QString explicitDir = qEnvironmentVariable("MUSIC_SPLIT_MODELS");
    if (!explicitDir.isEmpty()) return explicitDir.toStdString();
    return xdg("XDG_CACHE_HOME", ".cache") + "/models";
}

std::string dataDir() {
    return xdg("XDG_DATA_HOME", ".local/share");
}

std::string stateDir() {
    return xdg("XDG_STATE_HOME", ".local/state");
}

}  // namespace msplit::paths
