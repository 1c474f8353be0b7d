// Any bytes as an audio file: FFmpeg's probing and decoding through our reader, as a dropped file
// or an upload is read. Reading stops after 10 minutes of output (what a small file can claim).
#include <cstdint>
#include <vector>

#include "core/audio/decoder.h"
#include "core/error.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        msplit::AudioReader reader(msplit::fuzz::asFile(data, size, ".audio"), 44100, 2);
        std::vector<float> planar(2 * 4096);
        int64_t total = 0;
        while (total < 10 * 60 * 44100) {
            const int64_t n = reader.read(planar.data(), 4096);
            if (n == 0) break;
            total += n;
        }
    } catch (const msplit::Error&) {
    }
    return 0;
}
