#pragma once
// Typed reads of a checkpoint's `kwargs` with the Python defaults, recording which keys were used.
#include <set>
#include <string>
#include <vector>

#include "core/engine/model.h"
#include "core/engine/pickle.h"

namespace msplit::engine {

class Kwargs {
public:
    explicit Kwargs(const PyValue& dict) : dict_(dict) {}

    int64_t integer(const std::string& key, int64_t fallback);
    double real(const std::string& key, double fallback);
    bool boolean(const std::string& key, bool fallback);
    std::string text(const std::string& key, const std::string& fallback);
    // A list of numbers, or None (-> empty).
    std::vector<double> reals(const std::string& key);
    std::vector<std::string> strings(const std::string& key);
    Segment segment(const std::string& key, double fallback);
    bool isNoneOrMissing(const std::string& key);
    // Keys present in the checkpoint that the model does not read (Demucs drops them too).
    std::vector<std::string> unused() const;

private:
    const PyValue* get(const std::string& key);
    const PyValue& dict_;
    std::set<std::string> read_;
};

}  // namespace msplit::engine
