#include "core/engine/checkpoint_writer.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>

#include "core/engine/error.h"

namespace msplit::engine {
namespace {

std::string storageName(const at::Tensor& t) {
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

}  // namespace

void PickleWriter::u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out_ += static_cast<char>((v >> (8 * i)) & 0xff);
}

PickleWriter& PickleWriter::raw(const std::string& bytes) {
    out_ += bytes;
    return *this;
}

PickleWriter& PickleWriter::global(const std::string& module, const std::string& name) {
    out_ += 'c' + module + '\n' + name + '\n';
    return *this;
}

PickleWriter& PickleWriter::str(const std::string& s) {
    out_ += 'X';
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
    return *this;
}

PickleWriter& PickleWriter::integer(int64_t v) {
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

PickleWriter& PickleWriter::tensor(const at::Tensor& t, const std::string& key,
                                   int64_t storageNumel, const std::vector<int64_t>& sizes) {
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

PickleWriter& PickleWriter::value(const PyValue& v) {
    using T = PyValue::Type;
    switch (v.type) {
        case T::None:
            return raw("N");
        case T::Bool:
            return raw(v.boolean ? "\x88" : "\x89");
        case T::Int:
            return integer(v.integer);
        case T::Float: {
            out_ += 'G';  // BINFLOAT: big-endian IEEE double
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
            // As Python pickles fractions.Fraction: the class called with its text, "39/5".
            global("fractions", "Fraction").raw("(");
            return str(std::to_string(v.integer) + "/" + std::to_string(v.denominator)).raw("tR");
        case T::Tensor:
            return tensor(v.tensor, std::to_string(storages_.size()));
        case T::Global: {
            const auto dot = v.text.rfind('.');
            return global(v.text.substr(0, dot), v.text.substr(dot + 1));
        }
    }
    return *this;
}

void PickleWriter::writeArchive(const std::string& path, int64_t storageBytes) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path);
    try {
        // Written through a function, as torch.save does: the records are then under "archive/",
        // not under the file's own name, so the same content gives the same bytes.
        caffe2::serialize::PyTorchStreamWriter w([&out](const void* data, size_t size) {
            out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
            return out ? size : 0;
        });
        const std::string p = pickle();
        w.writeRecord("data.pkl", p.data(), p.size());
        for (const auto& [key, t] : storages_) {
            const size_t n = storageBytes >= 0 ? static_cast<size_t>(storageBytes) : t.nbytes();
            w.writeRecord("data/" + key, t.data_ptr(), n);
        }
        w.writeEndOfFile();
    } catch (const c10::Error& e) {
        throw Error("cannot write " + path + ": " + e.what_without_backtrace());
    }
    out.close();
    if (!out) throw Error("cannot write " + path + " (disk full?)");
}

void saveCheckpoint(const std::string& path, const Checkpoint& ck) {
    const auto dot = ck.klass.rfind('.');
    if (dot == std::string::npos) throw Error("invalid model class name " + ck.klass);
    PickleWriter w;
    w.raw("}(").str("klass").global(ck.klass.substr(0, dot), ck.klass.substr(dot + 1));
    w.str("args").value(ck.args ? *ck.args : PyValue(PyValue::Type::Tuple));
    w.str("kwargs").value(ck.kwargs ? *ck.kwargs : PyValue(PyValue::Type::Dict));
    w.str("state").raw("}(");
    int key = 0;
    for (const auto& [name, t] : ck.state)  // std::map: sorted, as the Python tool writes them
        w.str(name).tensor(t, std::to_string(key++));
    w.raw("u").str("training_args");
    w.value(ck.trainingArgs ? *ck.trainingArgs : PyValue(PyValue::Type::None)).raw("u");
    w.writeArchive(path);
}

}  // namespace msplit::engine
