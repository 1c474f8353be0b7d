#pragma once
// Writes checkpoints the way torch.save does (a zip with data.pkl and data/N storages, pickle
// protocol 2), so that files we make (the ONNX import, tests) load in our reader and in Python
// demucs alike. The pickle pieces are public so tests can also build altered and hostile streams.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/checkpoint.h"
#include "core/engine/pickle.h"

namespace msplit::engine {

class PickleWriter {
public:
    // Raw pickle opcodes, e.g. "}(" (empty dict, mark) or "u" (set items).
    PickleWriter& raw(const std::string& bytes);
    PickleWriter& global(const std::string& module, const std::string& name);
    PickleWriter& str(const std::string& s);
    PickleWriter& integer(int64_t v);
    // A tensor record as torch.save writes it, its storage kept under `key`. `storageNumel` and
    // `sizes` override what the tensor says (for hostile files).
    PickleWriter& tensor(const at::Tensor& t, const std::string& key, int64_t storageNumel = -1,
                         const std::vector<int64_t>& sizes = {});
    // Any value our reader produces, written back; tensors get the next storage key.
    PickleWriter& value(const PyValue& v);

    std::string pickle() const { return "\x80\x02" + out_ + "."; }
    const std::vector<std::pair<std::string, at::Tensor>>& storages() const { return storages_; }

    // The zip, as torch.save lays it out. `storageBytes` may cut storages short (hostile files).
    // Throws Error when the file cannot be written.
    void writeArchive(const std::string& path, int64_t storageBytes = -1) const;

private:
    void u32(uint32_t v);
    std::string out_;
    std::vector<std::pair<std::string, at::Tensor>> storages_;
};

// Writes `ck` as a Demucs package ({klass, args, kwargs, state, training_args}); the state's
// tensors keep their dtype (Meta's files hold float16). Throws Error.
void saveCheckpoint(const std::string& path, const Checkpoint& ck);

}  // namespace msplit::engine
