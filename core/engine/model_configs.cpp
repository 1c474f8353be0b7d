#include "core/engine/model_configs.h"

#include "core/engine/error.h"
#include "core/engine/hdemucs.h"
#include "core/engine/htdemucs.h"
#include "core/engine/kwargs.h"
#include "core/engine/params.h"

namespace msplit::engine {
namespace {

PyRef key(const std::string& k) {
    auto v = std::make_shared<PyValue>(PyValue::Type::String);
    v->text = k;
    return v;
}

PyRef integer(int64_t i) {
    auto v = std::make_shared<PyValue>(PyValue::Type::Int);
    v->integer = i;
    return v;
}

PyRef names(const std::vector<std::string>& items) {
    auto v = std::make_shared<PyValue>(PyValue::Type::List);
    for (const auto& s : items)
        v->items.push_back(key(s));
    return v;
}

PyRef fraction(int64_t n, int64_t d) {
    auto v = std::make_shared<PyValue>(PyValue::Type::Fraction);
    v->integer = n;
    v->denominator = d;
    return v;
}

// The released htdemucs: the training config's model section as the ONNX export reveals it
// (dconv_mode 3, bottom_channels 512, 5 transformer layers, 39/5 s segments).
PyRef htdemucsKwargs(const std::vector<std::string>& sources) {
    auto d = std::make_shared<PyValue>(PyValue::Type::Dict);
    auto set = [&](const std::string& k, PyRef v) {
        d->entries.emplace_back(key(k), std::move(v));
    };
    set("sources", names(sources));
    set("audio_channels", integer(2));
    set("samplerate", integer(44100));
    set("segment", fraction(39, 5));
    set("channels", integer(48));
    set("depth", integer(4));
    set("dconv_mode", integer(3));
    set("bottom_channels", integer(512));
    set("t_layers", integer(5));
    set("t_heads", integer(8));
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
