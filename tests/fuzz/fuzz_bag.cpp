// A repository's NAME.yaml (a bag of models) resolved as the loader does: the YAML, then the
// files it names (none exist here, which must be a plain error too).
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/models/local_repo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::filesystem::path dir = [] {
        const char* tmp = std::getenv("TMPDIR");
        auto d = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                 ("music-split-fuzz-bag-" + std::to_string(getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    {
        std::FILE* f = std::fopen((dir / "fuzz.yaml").c_str(), "wb");
        if (!f) std::abort();
        if (size && std::fwrite(data, 1, size, f) != size) std::abort();
        std::fclose(f);
    }
    try {
        const msplit::LocalRepo repo(dir.string());
        const auto bag = repo.resolve("fuzz");
        (void)bag.files.size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
