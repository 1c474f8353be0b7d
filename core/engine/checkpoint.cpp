#include "core/engine/checkpoint.h"

#include <caffe2/serialize/inline_container.h>

#include <fstream>
#include <memory>

#include "core/engine/error.h"

namespace msplit::engine {
namespace {

std::unique_ptr<caffe2::serialize::PyTorchStreamReader> openArchive(const std::string& path) {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw Error("cannot open " + path);
    char magic[2] = {0, 0};
    probe.read(magic, 2);
    if (probe.gcount() < 2 || magic[0] != 'P' || magic[1] != 'K') {
        throw Error(path + " is not a PyTorch zip checkpoint (legacy or unknown format)");
    }
    try {
        // The reader finds the archive's folder prefix itself (`archive/` or anything else).
        return std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
    } catch (const c10::Error& e) {
        throw Error(path + " is not a readable checkpoint archive (truncated or corrupt zip): " +
                    e.what_without_backtrace());
    }
}

std::string dictString(const PyValue& dict, const char* key) {
    const PyValue* v = dict.find(key);
    return v && v->type == PyValue::Type::Global ? v->text : std::string();
}

}  // namespace

Checkpoint loadCheckpoint(const std::string& path) {
    auto archive = openArchive(path);
    std::ifstream sizeProbe(path, std::ios::binary | std::ios::ate);
    const auto fileSize = static_cast<uint64_t>(sizeProbe.tellg());

    auto readRecord = [&](const std::string& name) {
        try {
            if (!archive->hasRecord(name))
                throw Error(path + ": the archive has no record " + name);
            if (archive->getRecordOffset(name) > fileSize)
                throw Error(path + ": record " + name + " lies outside the file");
            return archive->getRecord(name);
        } catch (const c10::Error& e) {
            throw Error(path + ": cannot read record " + name + " (" + e.what_without_backtrace() +
                        ")");
        }
    };

    auto [pklData, pklSize] = readRecord("data.pkl");
    const std::string pickle(static_cast<const char*>(pklData.get()), pklSize);

    StorageLoader loader = [&](const std::string& key, at::ScalarType dtype, int64_t numel) {
        if (key.find('/') != std::string::npos || key.find("..") != std::string::npos)
            throw Error(path + ": invalid storage key " + key);
        auto record = readRecord("data/" + key);
        const size_t bytes = std::get<1>(record);
        const auto elementSize = static_cast<uint64_t>(c10::elementSize(dtype));
        if (static_cast<uint64_t>(numel) > bytes / elementSize)
            throw Error(path + ": storage " + key + " holds " + std::to_string(bytes) +
                        " bytes, fewer than the " + std::to_string(numel) + " elements it claims");
        // Own the bytes: the record's buffer dies with this scope.
        auto owned = std::make_shared<at::DataPtr>(std::move(std::get<0>(record)));
        void* raw = owned->get();
        return at::from_blob(
            raw, {numel}, [owned](void*) mutable { owned.reset(); },
            at::TensorOptions().dtype(dtype));
    };

    PyRef root;
    try {
        root = unpickle(pickle, loader);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    } catch (const c10::Error& e) {
        throw Error(path + ": " + e.what_without_backtrace());
    }
    if (root->type != PyValue::Type::Dict)
        throw Error(path + ": the checkpoint is not a Demucs package (top level is a " +
                    root->typeName() + ")");

    Checkpoint ck;
    ck.klass = dictString(*root, "klass");
    auto field = [&](const char* key) {
        const PyValue* v = root->find(key);
        if (!v) throw Error(path + ": not a Demucs package (no '" + std::string(key) + "')");
        return std::make_shared<PyValue>(*v);
    };
    if (ck.klass.empty()) throw Error(path + ": not a Demucs package (no model class)");
    ck.args = field("args");
    ck.kwargs = field("kwargs");
    if (ck.kwargs->type != PyValue::Type::Dict)
        throw Error(path + ": model arguments are not a dict");
    const PyValue* training = root->find("training_args");
    ck.trainingArgs = training ? std::make_shared<PyValue>(*training)
                               : std::make_shared<PyValue>(PyValue::Type::None);

    const PyValue* state = root->find("state");
    if (!state || state->type != PyValue::Type::Dict)
        throw Error(path + ": no model state in the checkpoint");
    if (state->find("__quantized"))
        throw Error(path +
                    ": quantized models (DiffQ) are not supported; use the non-quantized version");
    for (const auto& [k, v] : state->entries) {
        if (k->type != PyValue::Type::String || v->type != PyValue::Type::Tensor)
            throw Error(path + ": unexpected entry in the model state (" + k->typeName() + " -> " +
                        v->typeName() + ")");
        at::Tensor t = v->tensor;
        if (t.is_floating_point()) t = t.to(at::kFloat);  // float16 files: upcast (a new tensor)
        t = t.contiguous();
        // A float32 tensor keeps the record it was read into (no copy: the model's 168 MB are
        // not allocated twice, nor left as holes in the heap), unless it views a larger storage.
        const auto bytes = static_cast<size_t>(t.numel()) * t.element_size();
        if (t.storage().nbytes() > bytes || t.storage_offset() != 0) t = t.clone();
        ck.state[k->text] = t;
    }
    return ck;
}

}  // namespace msplit::engine
