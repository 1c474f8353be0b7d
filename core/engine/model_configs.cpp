#include "core/engine/model_configs.h"

#include "core/engine/error.h"
#include "core/engine/hdemucs.h"
#include "core/engine/htdemucs.h"
#include "core/engine/kwargs.h"
#include "core/engine/params.h"

namespace msplit::engine {
namespace {

// A value of `type` with one field set: the kinds keyword arguments hold.
template <typename T>
PyRef value(PyValue::Type type, T PyValue::*field, T x) {
    auto v = std::make_shared<PyValue>(type);
    (*v).*field = std::move(x);
    return v;
}

PyRef key(const std::string& k) {
    return value(PyValue::Type::String, &PyValue::text, k);
}
PyRef integer(int64_t i) {
    return value(PyValue::Type::Int, &PyValue::integer, i);
}
PyRef real(double x) {
    return value(PyValue::Type::Float, &PyValue::real, x);
}
PyRef boolean(bool b) {
    return value(PyValue::Type::Bool, &PyValue::boolean, b);
}

PyRef fraction(int64_t n, int64_t d) {
    PyRef v = value(PyValue::Type::Fraction, &PyValue::integer, n);
    v->denominator = d;
    return v;
}

template <typename T>
PyRef list(const std::vector<T>& items, PyRef (*make)(T)) {
    auto v = std::make_shared<PyValue>(PyValue::Type::List);
    for (const auto& x : items)
        v->items.push_back(make(x));
    return v;
}
PyRef names(const std::vector<std::string>& items) {
    return list<std::string>(items, [](std::string s) { return key(s); });
}
PyRef reals(const std::vector<double>& xs) {
    return list<double>(xs, real);
}

// The released htdemucs: the htdemucs section of demucs' training config (conf/config.yaml) with
// the values the ONNX export reveals (dconv_mode 3, bottom_channels 512, 5 transformer layers,
// 39/5 s segments). Every key is written, as Meta's files do, so Python demucs builds the same
// model from a file we write.
PyRef htdemucsKwargs(const std::vector<std::string>& sources) {
    auto d = std::make_shared<PyValue>(PyValue::Type::Dict);
    auto set = [&](const std::string& k, PyRef v) {
        d->entries.emplace_back(key(k), std::move(v));
    };
    auto none = std::make_shared<PyValue>(PyValue::Type::None);
    set("sources", names(sources));
    set("audio_channels", integer(2));
    set("samplerate", integer(44100));
    set("segment", fraction(39, 5));
    set("channels", integer(48));
    set("channels_time", none);
    set("growth", integer(2));
    set("nfft", integer(4096));
    set("wiener_iters", integer(0));
    set("end_iters", integer(0));
    set("wiener_residual", boolean(false));
    set("cac", boolean(true));
    set("depth", integer(4));
    set("rewrite", boolean(true));
    set("multi_freqs", std::make_shared<PyValue>(PyValue::Type::List));
    set("multi_freqs_depth", integer(3));
    set("freq_emb", real(0.2));
    set("emb_scale", integer(10));
    set("emb_smooth", boolean(true));
    set("kernel_size", integer(8));
    set("stride", integer(4));
    set("time_stride", integer(2));
    set("context", integer(1));
    set("context_enc", integer(0));
    set("norm_starts", integer(4));
    set("norm_groups", integer(4));
    set("dconv_mode", integer(3));
    set("dconv_depth", integer(2));
    set("dconv_comp", integer(8));
    set("dconv_init", real(1e-3));
    set("bottom_channels", integer(512));
    set("t_layers", integer(5));
    set("t_hidden_scale", real(4.0));
    set("t_heads", integer(8));
    set("t_dropout", real(0.0));
    set("t_layer_scale", boolean(true));
    set("t_gelu", boolean(true));
    set("t_emb", key("sin"));
    set("t_max_positions", integer(10000));
    set("t_max_period", real(10000.0));
    set("t_weight_pos_embed", real(1.0));
    set("t_cape_mean_normalize", boolean(true));
    set("t_cape_augment", boolean(true));
    set("t_cape_glob_loc_scale", reals({5000.0, 1.0, 1.4}));
    set("t_sin_random_shift", integer(0));
    set("t_norm_in", boolean(true));
    set("t_norm_in_group", boolean(false));
    set("t_group_norm", boolean(false));
    set("t_norm_first", boolean(true));
    set("t_norm_out", boolean(true));
    set("t_weight_decay", real(0.0));
    set("t_lr", none);
    set("t_sparse_self_attn", boolean(false));
    set("t_sparse_cross_attn", boolean(false));
    set("t_mask_type", key("diag"));
    set("t_mask_random_seed", integer(42));
    set("t_sparse_attn_window", integer(400));
    set("t_global_window", integer(100));
    set("t_sparsity", real(0.95));
    set("t_auto_sparsity", boolean(false));
    set("t_cross_first", boolean(false));
    set("rescale", real(0.1));
    return d;
}

// Hybrid Demucs v3 as demucs' conf/config.yaml trains it (hdemucs_mmi), with the bags' 44 s
// segment; every other option is HDemucs's default, which equals that config.
PyRef hdemucsKwargs() {
    auto d = std::make_shared<PyValue>(PyValue::Type::Dict);
    d->entries.emplace_back(key("sources"), names({"drums", "bass", "other", "vocals"}));
    d->entries.emplace_back(key("audio_channels"), integer(2));
    d->entries.emplace_back(key("samplerate"), integer(44100));
    d->entries.emplace_back(key("segment"), integer(44));
    d->entries.emplace_back(key("channels"), integer(48));
    d->entries.emplace_back(key("depth"), integer(6));
    return d;
}

}  // namespace

std::vector<std::string> officialConfigNames() {
    return {"htdemucs", "htdemucs_6s", "hdemucs"};
}

PyRef officialKwargs(const std::string& config) {
    if (config == "htdemucs") return htdemucsKwargs({"drums", "bass", "other", "vocals"});
    if (config == "htdemucs_6s")
        return htdemucsKwargs({"drums", "bass", "other", "vocals", "guitar", "piano"});
    if (config == "hdemucs") return hdemucsKwargs();
    std::string known;
    for (const auto& n : officialConfigNames())
        known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown model configuration '" + config + "' (known: " + known + ")");
}

RandomModel buildRandomModel(const std::string& config, const at::TensorOptions& options,
                             uint64_t seed, PyRef kwargs) {
    if (!kwargs) kwargs = officialKwargs(config);
    Kwargs kw(*kwargs);
    Params params = Params::random(options, seed);
    RandomModel out;
    if (config == "hdemucs") {
        out.model = std::make_shared<HDemucs>(kw, params);
        out.klass = "demucs.hdemucs.HDemucs";
    } else {
        out.model = std::make_shared<HTDemucs>(kw, params);
        out.klass = "demucs.htdemucs.HTDemucs";
    }
    out.parameters = params.usedElements();
    out.kwargs = kwargs;
    out.state = params.state();
    return out;
}

}  // namespace msplit::engine
