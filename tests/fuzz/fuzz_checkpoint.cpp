// A whole .th file (torch.save's zip: LibTorch's archive reader, then our unpickler and the
// checks on the state), as the app reads a model someone sent.
#include <cstdint>

#include "core/engine/checkpoint.h"
#include "core/engine/error.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto ckpt = msplit::engine::loadCheckpoint(msplit::fuzz::asFile(data, size, ".th"));
        (void)ckpt.state.size();
    } catch (const msplit::engine::Error&) {  // anything else escaping is a finding
    }
    return 0;
}
