#pragma once
// A demucs-style local model repository, read exactly as `demucs --repo DIR -n NAME` does:
// single models `{sig}-{sha8}.th` (the SHA-256 prefix is checked) and bags `NAME.yaml`
// (`models`, optional `weights`, optional `segment`).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/engine.h"

namespace msplit {

struct BagSpec {
    std::string name;
    std::vector<std::string> files;            // absolute paths of the .th files
    std::vector<std::vector<double>> weights;  // empty: all ones
    std::optional<double> segment;
};

class LocalRepo {
public:
    // Scans `dir`; throws Error (NotFound) when it is not a folder, (InvalidInput) on duplicates.
    explicit LocalRepo(const std::string& dir);

    bool has(const std::string& name) const;
    // Bag names and single-model signatures, sorted.
    std::vector<std::string> names() const;
    // Resolves a bag name or a model signature, checking every file's checksum.
    BagSpec resolve(const std::string& name) const;
    const std::string& dir() const { return dir_; }

private:
    std::string modelFile(const std::string& sig) const;  // checks the checksum
    std::string dir_;
    std::map<std::string, std::string> models_;     // sig -> file
    std::map<std::string, std::string> checksums_;  // sig -> sha prefix
    std::map<std::string, std::string> bags_;       // name -> yaml file
};

// What the engine loads for a resolved bag (on the engine's default device and precision).
engine::ModelSpec toModelSpec(const BagSpec& bag);

// First `length` hex digits of the file's SHA-256 (Qt's implementation).
std::string sha256Prefix(const std::string& path, int length = 64);

}  // namespace msplit
