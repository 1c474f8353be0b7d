#pragma once
// A safe reader for the pickles inside PyTorch checkpoints. It builds data only: containers,
// numbers, strings, fractions and tensors. Class references are recorded as names and never
// resolved; any attempt to call or build anything else is refused with an error naming it.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace msplit::engine {

class PyValue;
using PyRef = std::shared_ptr<PyValue>;

class PyValue {
public:
    enum class Type {
        None,
        Bool,
        Int,
        Float,
        String,
        Bytes,
        List,
        Tuple,
        Dict,
        Fraction,
        Tensor,
        Global
    };

    explicit PyValue(Type t) : type(t) {}

    Type type;
    bool boolean = false;
    int64_t integer = 0;  // Int; numerator of a Fraction
    int64_t denominator = 1;
    double real = 0.0;
    std::string text;                              // String, Bytes, or "module.name" of a Global
    std::vector<PyRef> items;                      // List, Tuple
    std::vector<std::pair<PyRef, PyRef>> entries;  // Dict, in insertion order
    at::Tensor tensor;
    size_t nesting = 0;  // the deepest level it was placed at in a container (the reader's bound)

    bool isNone() const { return type == Type::None; }
    bool isNumber() const {
        return type == Type::Int || type == Type::Float || type == Type::Fraction ||
               type == Type::Bool;
    }
    // Conversions; each throws Error with `what` in the message when the type does not fit.
    double toDouble(const std::string& what) const;
    int64_t toInt(const std::string& what) const;
    bool toBool(const std::string& what) const;
    const std::string& toString(const std::string& what) const;
    // Dict lookup by string key; nullptr when absent (or when this is not a dict).
    const PyValue* find(const std::string& key) const;

    std::string typeName() const;
};

// Gives the unpickler the bytes of storage `key` (the archive's data/KEY record).
using StorageLoader =
    std::function<at::Tensor(const std::string& key, at::ScalarType dtype, int64_t numel)>;

struct PickleLimits {
    size_t maxDepth = 100;         // nesting of containers
    size_t maxMemo = 10'000'000;   // memo entries
    size_t maxStack = 10'000'000;  // values on the stack
    int maxTensorDims = 16;
};

// Parses `data` (a pickle, protocol 2 to 5) and returns the top-level value. Throws Error.
PyRef unpickle(const std::string& data, const StorageLoader& loadStorage,
               const PickleLimits& limits = {});

}  // namespace msplit::engine
