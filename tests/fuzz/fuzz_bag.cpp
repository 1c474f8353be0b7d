// A repository's NAME.yaml (a bag of models) resolved as the loader does: the YAML, then the
// files it names (none exist here, which must be a plain error too).
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/models/local_repo.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string dir = [] {
        const std::string d = msplit::fuzz::tempPath("-bag");
        std::filesystem::create_directories(d);
        return d;
    }();
    msplit::fuzz::writeBytes(dir + "/fuzz.yaml", data, size);
    try {
        const msplit::LocalRepo repo(dir);
        const auto bag = repo.resolve("fuzz");
        (void)bag.files.size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
