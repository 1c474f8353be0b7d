#include "core/models/onnx_htdemucs.h"

#include <onnx/onnx.pb.h>

#include <regex>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "core/engine/error.h"
#include "core/engine/model_configs.h"
#include "core/engine/params.h"
#include "core/error.h"

namespace msplit {
namespace {

using engine::shapeText;
using State = std::map<std::string, at::Tensor>;

bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// "a, b, c (+N more)": error messages name a few, not hundreds.
std::string someOf(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < 5; ++i)
        out += (i ? ", " : "") + names[i];
    if (names.size() > 5) out += " (+" + std::to_string(names.size() - 5) + " more)";
    return out;
}

class Reader {
public:
    explicit Reader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(const std::string& reason) const {
        throw Error(ErrorKind::InvalidInput, origin_, reason);
    }

    // An initializer as a float32 tensor; its data must be inside the file, of its declared size.
    at::Tensor tensor(const onnx::TensorProto& t) const {
        if (t.data_type() != onnx::TensorProto::FLOAT)
            fail("initializer " + t.name() + " is not float32 (ONNX type " +
                 std::to_string(t.data_type()) + "): not the htdemucs export");
        if (t.data_location() == onnx::TensorProto::EXTERNAL)
            fail("initializer " + t.name() + " keeps its data in another file (not supported)");
        std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
        int64_t numel = 1;
        for (int64_t d : dims) {
            if (d < 0 || (d > 0 && numel > (int64_t(1) << 40) / d))
                fail("initializer " + t.name() + " has an invalid shape");
            numel *= d;
        }
        // Sizes are checked before anything is allocated: a hostile shape must not ask for
        // terabytes.
        if (t.has_raw_data() && t.raw_data().size() != static_cast<size_t>(numel) * sizeof(float))
            fail("initializer " + t.name() + " holds " + std::to_string(t.raw_data().size()) +
                 " bytes, its shape " + shapeText(dims) + " needs " + std::to_string(numel * 4));
        if (!t.has_raw_data() && t.float_data_size() != numel)
            fail("initializer " + t.name() + " holds " + std::to_string(t.float_data_size()) +
                 " values, its shape " + shapeText(dims) + " needs " + std::to_string(numel));
        at::Tensor out = at::empty(dims, at::kFloat);
        if (t.has_raw_data())  // little-endian, as this machine is
            std::memcpy(out.data_ptr<float>(), t.raw_data().data(), t.raw_data().size());
        else
            std::copy(t.float_data().begin(), t.float_data().end(), out.data_ptr<float>());
        return out;
    }

    at::Tensor transposed(const at::Tensor& t, const std::string& name) const {
        if (t.dim() != 2) fail(name + " should be a matrix, it has shape " + shapeText(t.sizes()));
        return t.t().contiguous();
    }

    const std::string& origin() const { return origin_; }

private:
    std::string origin_;
};

// '/encoder.0/dconv/layers.0/layers.0.1/Mul' -> {"encoder.0.dconv.layers.0.1", "Mul"}: the
// module that made the node, and the node's own name within it.
std::pair<std::string, std::string> modulePath(const std::string& nodeName) {
    static const std::regex sequentialItem(R"(layers\.\d+\.\d+)");
    std::vector<std::string> parts;
    std::string trimmed = nodeName;
    while (!trimmed.empty() && trimmed.front() == '/')
        trimmed.erase(0, 1);
    while (!trimmed.empty() && trimmed.back() == '/')
        trimmed.pop_back();
    std::stringstream in(trimmed);
    for (std::string p; std::getline(in, p, '/');)
        parts.push_back(p);
    if (parts.empty()) return {"", ""};
    std::vector<std::string> mod;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        // A Sequential inside a ModuleList is scoped 'layers.0' then 'layers.0.1'.
        if (!mod.empty() && std::regex_match(parts[i], sequentialItem))
            mod.back() = parts[i];
        else
            mod.push_back(parts[i]);
    }
    std::string path;
    for (const auto& m : mod)
        path += (path.empty() ? "" : ".") + m;
    return {path, parts.back()};
}

// The q projection and the joint k/v projection of one cross-attention layer.
struct CrossAttention {
    at::Tensor qWeight, qBias, kvWeight, kvBias;
};

class Recovery {
public:
    Recovery(const onnx::GraphProto& g, const Reader& r) : graph_(g), r_(r) {}

    State run() {
        std::map<std::string, const onnx::TensorProto*> renamed;
        for (const auto& init : graph_.initializer()) {
            if (init.name().rfind("onnx::", 0) == 0) {
                renamed[init.name()] = &init;
            } else if (!state_.emplace(init.name(), r_.tensor(init)).second) {
                r_.fail("initializer " + init.name() + " appears twice");
            }
        }
        std::set<std::string> used;
        for (const auto& node : graph_.node())
            for (const auto& input : node.input()) {
                auto it = renamed.find(input);
                if (it == renamed.end() || used.count(input)) continue;
                place(node, input, r_.tensor(*it->second));
                used.insert(input);
            }
        std::vector<std::string> left;
        for (const auto& [name, init] : renamed)
            if (!used.count(name)) left.push_back(name);
        if (!left.empty())
            r_.fail(std::to_string(left.size()) +
                    " renamed initializers are used by no node: " + someOf(left));
        for (auto& [path, c] : cross_)
            joinCrossAttention(path, c);
        return std::move(state_);
    }

private:
    void put(const std::string& key, at::Tensor t, const std::string& from) {
        if (!state_.emplace(key, std::move(t)).second)
            r_.fail(key + " is found twice (the second time in " + from + ")");
    }

    void place(const onnx::NodeProto& node, const std::string& name, at::Tensor t) {
        static const std::regex dconvNorm(R"(dconv\.layers\.\d+\.[14]$)");
        static const std::regex dconvScale(R"(dconv\.layers\.\d+\.6$)");
        const auto [path, op] = modulePath(node.name());
        const std::string& type = node.op_type();
        const bool mul = type == "Mul", add = type == "Add", matmul = type == "MatMul";
        if (type == "Expand" && path.empty()) {
            // The frequency embedding, folded: embedding(frequencies) * emb_scale laid out as
            // (1, channels, frequencies, 1). The freq_emb factor (0.2) is a later Mul.
            if (t.dim() != 4 || t.size(0) != 1 || t.size(3) != 1)
                r_.fail("the frequency embedding (" + name + ", node " + node.name() +
                        ") has shape " + shapeText(t.sizes()) + ", expected (1, C, F, 1)");
            put("freq_emb.embedding.weight", (t[0].select(2, 0).t() / kEmbScale).contiguous(),
                node.name());
        } else if ((std::regex_search(path, dconvNorm) || endsWith(path, "norm_out")) &&
                   (mul || add)) {
            // GroupNorm's affine part, applied after the normalisation as x * weight + bias.
            put(path + (mul ? ".weight" : ".bias"), t.reshape({-1}), node.name());
        } else if (std::regex_search(path, dconvScale) && mul) {
            put(path + ".scale", t.reshape({-1}), node.name());  // LayerScale
        } else if (matmul && (endsWith(path, "linear1") || endsWith(path, "linear2"))) {
            put(path + ".weight", r_.transposed(t, name), node.name());
        } else if (matmul && endsWith(path, "self_attn")) {
            put(path + ".in_proj_weight", r_.transposed(t, name), node.name());
        } else if (endsWith(path, "cross_attn") && (matmul || add)) {
            // Queries come from one input (MatMul, Add), keys and values from the other
            // (MatMul_1, Add_1): the exporter split in_proj in two.
            CrossAttention& c = cross_[path];
            const bool q = op == "MatMul" || op == "Add";
            at::Tensor& slot = matmul ? (q ? c.qWeight : c.kvWeight) : (q ? c.qBias : c.kvBias);
            if (slot.defined()) r_.fail(path + " has two " + op + " projections");
            slot = matmul ? r_.transposed(t, name) : t;
        } else {
            r_.fail("no place for " + name + " (node " + node.name() + ", " + type + ", shape " +
                    shapeText(t.sizes()) + "): not the released htdemucs export");
        }
    }

    void joinCrossAttention(const std::string& path, const CrossAttention& c) {
        if (!c.qWeight.defined() || !c.kvWeight.defined() || !c.qBias.defined() ||
            !c.kvBias.defined())
            r_.fail(path +
                    ": the query or key/value projection is missing (MatMul, MatMul_1, "
                    "Add, Add_1)");
        if (c.qWeight.dim() != 2 || c.qBias.dim() != 1 || c.kvBias.dim() != 1 ||
            c.qWeight.size(1) != c.kvWeight.size(1))
            r_.fail(path + ": projections of mismatched shapes");
        put(path + ".in_proj_weight", at::cat({c.qWeight, c.kvWeight}, 0), path);
        put(path + ".in_proj_bias", at::cat({c.qBias, c.kvBias}, 0), path);
    }

    static constexpr double kEmbScale = 10;  // the released model's emb_scale
    const onnx::GraphProto& graph_;
    const Reader& r_;
    State state_;
    std::map<std::string, CrossAttention> cross_;
};

// The released layout, parameter by parameter: made once (a model on the meta device costs
// seconds under a sanitizer, and nothing in it changes).
const std::map<std::string, std::vector<int64_t>>& releasedLayout() {
    static const auto layout = [] {
        std::map<std::string, std::vector<int64_t>> m;
        for (const auto& [name, t] :
             engine::buildRandomModel("htdemucs", at::TensorOptions().device(at::kMeta)).state)
            m[name] = t.sizes().vec();
        return m;
    }();
    return layout;
}

// Every parameter of the released layout is there with its shape, and nothing else is.
void checkLayout(const State& state, const Reader& r) {
    const auto& released = releasedLayout();
    std::vector<std::string> missing, wrong, extra;
    for (const auto& [name, sizes] : released) {
        auto it = state.find(name);
        if (it == state.end())
            missing.push_back(name);
        else if (it->second.sizes() != at::IntArrayRef(sizes))
            wrong.push_back(name + " " + shapeText(it->second.sizes()) + " instead of " +
                            shapeText(sizes));
    }
    for (const auto& [name, t] : state)
        if (!released.count(name)) extra.push_back(name);
    if (!missing.empty())
        r.fail("not the released htdemucs: " + std::to_string(missing.size()) +
               " of its parameters are missing: " + someOf(missing));
    if (!wrong.empty()) r.fail("not the released htdemucs: wrong shapes: " + someOf(wrong));
    if (!extra.empty())
        r.fail("not the released htdemucs: " + std::to_string(extra.size()) +
               " parameters it does not have: " + someOf(extra));
    int64_t total = 0;
    for (const auto& [name, t] : state)
        total += t.numel();
    if (total != kHtdemucsParameters)
        r.fail("found " + std::to_string(total) + " parameters, the released htdemucs has " +
               std::to_string(kHtdemucsParameters));
}

}  // namespace

State htdemucsStateFromOnnx(std::string bytes, const std::string& origin) {
    const Reader reader(origin);
    onnx::ModelProto model;
    if (bytes.empty()) reader.fail("the file is empty");
    if (!model.ParseFromString(bytes))
        reader.fail("not a readable ONNX model (truncated or corrupt protobuf)");
    std::string().swap(bytes);  // 174 MB less while the tensors are made
    if (!model.has_graph() || model.graph().initializer_size() == 0)
        reader.fail("not an ONNX model with weights (no graph initializers)");
    try {
        State state = Recovery(model.graph(), reader).run();
        checkLayout(state, reader);
        return state;
    } catch (const engine::Error& e) {
        reader.fail(e.what());
    } catch (const c10::Error& e) {  // a tensor operation refused what the file holds
        reader.fail(e.what_without_backtrace());
    }
}

}  // namespace msplit
