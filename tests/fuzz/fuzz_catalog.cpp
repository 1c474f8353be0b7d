// The model catalog's YAML (a user's catalog file, or one a download server sends).
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/models/catalog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto catalog =
            msplit::parseCatalog(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
        (void)catalog.models.size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
