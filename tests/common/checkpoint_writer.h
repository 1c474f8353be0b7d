#pragma once
// Writes checkpoints the way torch.save does (a zip with data.pkl and data/N storages, pickle
// protocol 2), so tests can make valid, altered and hostile ones. Test-only: the app never writes
// checkpoints.
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/engine/pickle.h"

namespace msplit::test {

class PickleWriter {
public:
    using T = engine::PyValue::Type;

    // Raw pickle pieces, for hostile streams.
    PickleWriter& raw(const std::string& bytes) {
        out_ += bytes;
        return *this;
    }
    PickleWriter& global(const std::string& module, const std::string& name) {
        out_ += 'c' + module + '\n' + name + '\n';
        return *this;
    }
    PickleWriter& str(const std::string& s) {
        out_ += 'X';
        u32(static_cast<uint32_t>(s.size()));
        out_ += s;
        return *this;
    }
    PickleWriter& integer(int64_t v) {
        if (v >= INT32_MIN && v <= INT32_MAX) {
            out_ += 'J';
            u32(static_cast<uint32_t>(static_cast<int32_t>(v)));
        } else {
            out_ += "\x8a\x08";
            for (int i = 0; i < 8; ++i)
                out_ += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
        }
        return *this;
    }
    // A tensor record as torch.save writes it, its storage kept under `key`.
    PickleWriter& tensor(const at::Tensor& t, const std::string& key, int64_t storageNumel = -1,
                         const std::vector<int64_t>& sizes = {}) {
        const at::Tensor c = t.contiguous();
        storages_.emplace_back(key, c);
        const std::vector<int64_t> shape = sizes.empty() ? c.sizes().vec() : sizes;
        global("torch._utils", "_rebuild_tensor_v2").raw("(");
        raw("(").str("storage").global("torch", storageName(c)).str(key).str("cpu");
        integer(storageNumel >= 0 ? storageNumel : c.numel()).raw("tQ");
        integer(0);
        raw("(");
        for (int64_t s : shape)
            integer(s);
        raw("t(");
        uint64_t stride = 1;  // unsigned: hostile shapes may wrap, and that is the point
        std::vector<uint64_t> strides(shape.size());
        for (size_t i = shape.size(); i-- > 0;) {
            strides[i] = stride;
            stride *= static_cast<uint64_t>(shape[i]);
        }
        for (uint64_t s : strides)
            integer(static_cast<int64_t>(s));
        raw("t\x89").global("collections", "OrderedDict").raw(")Rt").raw("R");
        return *this;
    }
    // Any value our reader produces, written back.
    PickleWriter& value(const engine::PyValue& v) {
        switch (v.type) {
            case T::None:
                return raw("N");
            case T::Bool:
                return raw(v.boolean ? "\x88" : "\x89");
            case T::Int:
                return integer(v.integer);
            case T::Float: {
                out_ += 'G';
                uint64_t bits;
                std::memcpy(&bits, &v.real, 8);
                for (int i = 7; i >= 0; --i)
                    out_ += static_cast<char>((bits >> (8 * i)) & 0xff);
                return *this;
            }
            case T::String:
                return str(v.text);
            case T::Bytes:
                out_ += 'B';
                u32(static_cast<uint32_t>(v.text.size()));
                out_ += v.text;
                return *this;
            case T::List:
                raw("](");
                for (const auto& i : v.items)
                    value(*i);
                return raw("e");
            case T::Tuple:
                raw("(");
                for (const auto& i : v.items)
                    value(*i);
                return raw("t");
            case T::Dict:
                raw("}(");
                for (const auto& [k, x] : v.entries)
                    value(*k).value(*x);
                return raw("u");
            case T::Fraction:
                global("fractions", "Fraction").raw("(");
                return str(std::to_string(v.integer) + "/" + std::to_string(v.denominator))
                    .raw("tR");
            case T::Tensor:
                return tensor(v.tensor, std::to_string(storages_.size()));
            case T::Global: {
                const auto dot = v.text.rfind('.');
                return global(v.text.substr(0, dot), v.text.substr(dot + 1));
            }
        }
        return *this;
    }

    std::string pickle() const { return "\x80\x02" + out_ + "."; }
    const std::vector<std::pair<std::string, at::Tensor>>& storages() const { return storages_; }

    // The zip, as torch.save lays it out. `storageBytes` may cut storages short (hostile files).
    void writeArchive(const std::string& path, int64_t storageBytes = -1) const {
        caffe2::serialize::PyTorchStreamWriter w(path);
        const std::string p = pickle();
        w.writeRecord("data.pkl", p.data(), p.size());
        for (const auto& [key, t] : storages_) {
            const size_t n = storageBytes >= 0 ? static_cast<size_t>(storageBytes) : t.nbytes();
            w.writeRecord("data/" + key, t.data_ptr(), n);
        }
        w.writeEndOfFile();
    }

private:
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i)
            out_ += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    static std::string storageName(const at::Tensor& t) {
        switch (t.scalar_type()) {
            case at::kHalf:
                return "HalfStorage";
            case at::kDouble:
                return "DoubleStorage";
            case at::kLong:
                return "LongStorage";
            default:
                return "FloatStorage";
        }
    }

    std::string out_;
    std::vector<std::pair<std::string, at::Tensor>> storages_;
};

}  // namespace msplit::test
