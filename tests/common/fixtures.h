#pragma once
// Access to the shared Demucs reference cases (shared/fixtures/demucs) for tests.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <ATen/ATen.h>

#include <algorithm>

#include "core/engine/npy.h"

namespace msplit::test {

inline QString fixturesDir() {
    return QString(MUSIC_SPLIT_FIXTURES);
}
inline QString repoDir() {
    return fixturesDir() + "/repo";
}
inline QString caseDir(const QString& name) {
    return fixturesDir() + "/" + name;
}

inline at::Tensor caseMix(const QString& name) {
    return engine::readNpy((caseDir(name) + "/input.npy").toStdString());
}

inline QJsonObject caseJson(const QString& name) {
    QFile f(caseDir(name) + "/case.json");
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

inline QStringList parityCases() {
    return {"htdemucs_tiny", "htdemucs6_tiny_bottom", "htdemucs_ft_bag_tiny", "hdemucs_tiny"};
}

// max |a - b| / max |ref|, the fixtures' tolerance measure.
inline double relativeError(const at::Tensor& out, const at::Tensor& ref) {
    return (out - ref).abs().max().item<double>() / ref.abs().max().item<double>();
}

}  // namespace msplit::test
