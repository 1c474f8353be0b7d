#include "core/models/local_repo.h"

#include <yaml-cpp/yaml.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include "core/error.h"

namespace msplit {

std::string sha256Prefix(const std::string& path, int length) {
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly))
        throw Error(ErrorKind::NotFound, path, "cannot open the file");
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file)) throw Error(ErrorKind::Io, path, "cannot read the file");
    return hash.result().toHex().left(length).toStdString();
}

LocalRepo::LocalRepo(const std::string& dir) : dir_(dir) {
    QDir d(QString::fromStdString(dir));
    if (!d.exists()) throw Error(ErrorKind::NotFound, dir, "the model folder does not exist");
    for (const QFileInfo& f : d.entryInfoList(QDir::Files, QDir::Name)) {
        const std::string stem = f.completeBaseName().toStdString();
        const std::string path = f.absoluteFilePath().toStdString();
        if (f.suffix() == "th") {
            std::string sig = stem;
            const auto dash = stem.find('-');
            if (dash != std::string::npos) {
                sig = stem.substr(0, dash);
                checksums_[sig] = stem.substr(dash + 1);
            }
            if (models_.count(sig))
                throw Error(ErrorKind::InvalidInput, dir,
                            "more than one model file has the signature " + sig);
            models_[sig] = path;
        } else if (f.suffix() == "yaml") {
            bags_[stem] = path;
        }
    }
}

bool LocalRepo::has(const std::string& name) const {
    return models_.count(name) || bags_.count(name);
}

std::vector<std::string> LocalRepo::names() const {
    std::vector<std::string> out;
    for (const auto& m : bags_)
        out.push_back(m.first);
    for (const auto& m : models_)
        out.push_back(m.first);
    std::sort(out.begin(), out.end());
    return out;
}

std::string LocalRepo::modelFile(const std::string& sig) const {
    auto it = models_.find(sig);
    if (it == models_.end())
        throw Error(ErrorKind::NotFound, sig, "no model file with this signature in " + dir_);
    auto sum = checksums_.find(sig);
    if (sum != checksums_.end()) {
        const std::string actual = sha256Prefix(it->second, static_cast<int>(sum->second.size()));
        if (actual != sum->second)
            throw Error(ErrorKind::InvalidInput, it->second,
                        "invalid checksum: the name says " + sum->second + ", the content gives " +
                            actual + " (corrupt or incomplete file)");
    }
    return it->second;
}

BagSpec LocalRepo::resolve(const std::string& name) const {
    BagSpec spec;
    spec.name = name;
    if (models_.count(name)) {
        spec.files.push_back(modelFile(name));
        return spec;
    }
    auto bag = bags_.find(name);
    if (bag == bags_.end())
        throw Error(ErrorKind::NotFound, name, "neither a model nor a bag of models in " + dir_);
    try {
        YAML::Node root = YAML::LoadFile(bag->second);
        if (!root.IsMap() || !root["models"] || !root["models"].IsSequence() ||
            root["models"].size() == 0)
            throw Error(ErrorKind::InvalidInput, bag->second,
                        "a bag file needs a non-empty 'models' list");
        for (const auto& sig : root["models"])
            spec.files.push_back(modelFile(sig.as<std::string>()));
        if (root["weights"] && !root["weights"].IsNull()) {
            for (const auto& row : root["weights"])
                spec.weights.push_back(row.as<std::vector<double>>());
            if (spec.weights.size() != spec.files.size())
                throw Error(ErrorKind::InvalidInput, bag->second,
                            "the bag needs one row of weights per model");
        }
        if (root["segment"] && !root["segment"].IsNull())
            spec.segment = root["segment"].as<double>();
    } catch (const YAML::Exception& e) {
        throw Error(ErrorKind::InvalidInput, bag->second,
                    std::string("invalid bag file: ") + e.what());
    }
    return spec;
}

engine::ModelSpec toModelSpec(const BagSpec& bag) {
    engine::ModelSpec spec;
    spec.files = bag.files;
    spec.weights = bag.weights;
    spec.segment = bag.segment;
    return spec;
}

}  // namespace msplit
