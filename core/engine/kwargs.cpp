#include "core/engine/kwargs.h"

#include "core/engine/error.h"

namespace msplit::engine {

const PyValue* Kwargs::get(const std::string& key) {
    read_.insert(key);
    const PyValue* v = dict_.find(key);
    return v && !v->isNone() ? v : nullptr;
}

bool Kwargs::isNoneOrMissing(const std::string& key) {
    return get(key) == nullptr;
}

int64_t Kwargs::integer(const std::string& key, int64_t fallback) {
    const PyValue* v = get(key);
    return v ? v->toInt("model argument " + key) : fallback;
}

double Kwargs::real(const std::string& key, double fallback) {
    const PyValue* v = get(key);
    return v ? v->toDouble("model argument " + key) : fallback;
}

bool Kwargs::boolean(const std::string& key, bool fallback) {
    const PyValue* v = get(key);
    return v ? v->toBool("model argument " + key) : fallback;
}

std::string Kwargs::text(const std::string& key, const std::string& fallback) {
    const PyValue* v = get(key);
    return v ? v->toString("model argument " + key) : fallback;
}

std::vector<double> Kwargs::reals(const std::string& key) {
    std::vector<double> out;
    const PyValue* v = get(key);
    if (!v) return out;
    if (v->type != PyValue::Type::List && v->type != PyValue::Type::Tuple)
        throw Error("model argument " + key + ": expected a list, found " + v->typeName());
    for (const auto& item : v->items)
        out.push_back(item->toDouble("model argument " + key));
    return out;
}

std::vector<std::string> Kwargs::strings(const std::string& key) {
    std::vector<std::string> out;
    const PyValue* v = get(key);
    if (!v || (v->type != PyValue::Type::List && v->type != PyValue::Type::Tuple))
        throw Error("model argument " + key + ": expected a list of names");
    for (const auto& item : v->items)
        out.push_back(item->toString("model argument " + key));
    return out;
}

Segment Kwargs::segment(const std::string& key, double fallback) {
    const PyValue* v = get(key);
    if (!v) return Segment::fromSeconds(fallback);
    if (v->type == PyValue::Type::Fraction)
        return Segment::fromFraction(v->integer, v->denominator);
    if (v->type == PyValue::Type::Int) return Segment::fromFraction(v->integer, 1);
    return Segment::fromSeconds(v->toDouble("model argument " + key));
}

std::vector<std::string> Kwargs::unused() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : dict_.entries)
        if (k->type == PyValue::Type::String && !read_.count(k->text)) out.push_back(k->text);
    return out;
}

}  // namespace msplit::engine
