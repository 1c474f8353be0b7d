// htdemucs's ONNX export read back (protobuf, then our placement and shape checks).
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/models/onnx_htdemucs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto state = msplit::htdemucsStateFromOnnx(
            std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
        (void)state.size();
    } catch (const msplit::Error&) {
    }
    return 0;
}
