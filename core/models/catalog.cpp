#include "core/models/catalog.h"

#include <yaml-cpp/yaml.h>

#include <QFile>
#include <QRegularExpression>

#include "core/error.h"

namespace msplit {
namespace {

CatalogFile parseFile(const std::string& path, const std::string& origin) {
    static const QRegularExpression name("^([0-9a-f]{8})-([0-9a-f]{8})\\.th$");
    const QString p = QString::fromStdString(path);
    const QString base = p.section('/', -1);
    const auto m = name.match(base);
    if (!m.hasMatch() || p.startsWith('/') || p.contains("..") || p.contains('\\'))
        throw Error(ErrorKind::InvalidInput, origin,
                    "model file '" + path + "' is not a relative path to a {sig}-{sha8}.th file");
    return {path, base.toStdString(), m.captured(1).toStdString(), m.captured(2).toStdString()};
}

CatalogModel parseModel(const std::string& name, const YAML::Node& n, const std::string& origin) {
    const std::string where = origin + ": model " + name;
    if (!n.IsMap() || !n["files"] || !n["files"].IsSequence() || n["files"].size() == 0)
        throw Error(ErrorKind::InvalidInput, where, "needs a non-empty 'files' list");
    CatalogModel m;
    m.name = name;
    if (n["description"]) m.description = n["description"].as<std::string>();
    if (n["stems"]) m.stems = n["stems"].as<std::vector<std::string>>();
    for (const auto& f : n["files"])
        m.files.push_back(parseFile(f.as<std::string>(), where));
    if (n["weights"] && !n["weights"].IsNull()) {
        m.weights = n["weights"].as<std::vector<std::vector<double>>>();
        if (m.weights.size() != m.files.size())
            throw Error(ErrorKind::InvalidInput, where, "needs one row of weights per file");
        for (const auto& row : m.weights)
            if (!m.stems.empty() && row.size() != m.stems.size())
                throw Error(ErrorKind::InvalidInput, where, "needs one weight per stem");
    }
    if (n["segment"] && !n["segment"].IsNull()) {
        m.segment = n["segment"].as<double>();
        if (!(*m.segment > 0))
            throw Error(ErrorKind::InvalidInput, where, "segment must be positive");
    }
    if (n["unsupported"]) m.unsupported = n["unsupported"].as<std::string>();
    if (const YAML::Node npm = n["npm"]) {
        if (!npm.IsMap() || !npm["package"] || !npm["file"])
            throw Error(ErrorKind::InvalidInput, where, "npm needs 'package' and 'file'");
        m.npm = NpmSource{npm["package"].as<std::string>(), npm["file"].as<std::string>(),
                          npm["licence"] ? npm["licence"].as<std::string>() : std::string()};
    }
    return m;
}

}  // namespace

const CatalogModel* Catalog::find(const std::string& name) const {
    for (const auto& m : models)
        if (m.name == name) return &m;
    return nullptr;
}

Catalog parseCatalog(const std::string& yaml, const std::string& origin) {
    Catalog c;
    try {
        const YAML::Node root = YAML::Load(yaml);
        if (!root.IsMap() || !root["base_url"] || !root["models"] || !root["models"].IsMap())
            throw Error(ErrorKind::InvalidInput, origin, "a catalog needs 'base_url' and 'models'");
        c.baseUrl = root["base_url"].as<std::string>();
        if (c.baseUrl.empty() || c.baseUrl.back() != '/') c.baseUrl += '/';
        for (const auto& entry : root["models"])
            c.models.push_back(parseModel(entry.first.as<std::string>(), entry.second, origin));
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::InvalidInput, origin, std::string("invalid catalog: ") + e.what());
    }
    return c;
}

Catalog loadCatalog(const std::string& path) {
    const QString file =
        path.empty() ? QStringLiteral(":/models/catalog.yaml") : QString::fromStdString(path);
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        throw Error(ErrorKind::NotFound, file.toStdString(), "cannot read the model catalog");
    return parseCatalog(f.readAll().toStdString(), file.toStdString());
}

}  // namespace msplit
