// The values the safe unpickler builds (pickle.h): type names and checked conversions.
#include "core/engine/error.h"
#include "core/engine/pickle.h"

namespace msplit::engine {

std::string PyValue::typeName() const {
    switch (type) {
        case Type::None:
            return "None";
        case Type::Bool:
            return "bool";
        case Type::Int:
            return "int";
        case Type::Float:
            return "float";
        case Type::String:
            return "str";
        case Type::Bytes:
            return "bytes";
        case Type::List:
            return "list";
        case Type::Tuple:
            return "tuple";
        case Type::Dict:
            return "dict";
        case Type::Fraction:
            return "Fraction";
        case Type::Tensor:
            return "tensor";
        case Type::Global:
            return "reference to " + text;
    }
    return "?";
}

double PyValue::toDouble(const std::string& what) const {
    switch (type) {
        case Type::Bool:
            return boolean ? 1.0 : 0.0;
        case Type::Int:
            return static_cast<double>(integer);
        case Type::Float:
            return real;
        case Type::Fraction:
            return static_cast<double>(integer) / static_cast<double>(denominator);
        default:
            throw Error(what + ": expected a number, found " + typeName());
    }
}

int64_t PyValue::toInt(const std::string& what) const {
    if (type == Type::Int) return integer;
    if (type == Type::Bool) return boolean ? 1 : 0;
    if (type == Type::Float && real == static_cast<double>(static_cast<int64_t>(real)))
        return static_cast<int64_t>(real);
    throw Error(what + ": expected an integer, found " + typeName());
}

bool PyValue::toBool(const std::string& what) const {
    if (type == Type::Bool) return boolean;
    if (type == Type::Int) return integer != 0;
    if (type == Type::None) return false;
    if (type == Type::Float) return real != 0.0;
    throw Error(what + ": expected a boolean, found " + typeName());
}

const std::string& PyValue::toString(const std::string& what) const {
    if (type != Type::String) throw Error(what + ": expected a string, found " + typeName());
    return text;
}

const PyValue* PyValue::find(const std::string& key) const {
    if (type != Type::Dict) return nullptr;
    for (const auto& [k, v] : entries)
        if (k->type == Type::String && k->text == key) return v.get();
    return nullptr;
}

}  // namespace msplit::engine
