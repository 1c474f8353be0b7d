// The unpickler alone, on any bytes: the part of a checkpoint an attacker writes most freely.
// Storages are handed out as small zero tensors (their bytes are not in a bare pickle).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "core/engine/error.h"
#include "core/engine/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace msplit::engine;
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const StorageLoader storage = [](const std::string&, at::ScalarType dtype, int64_t numel) {
        if (numel < 0 || numel > (1 << 16)) throw Error("storage too large for the fuzzer");
        return at::zeros({numel}, at::TensorOptions().dtype(dtype));
    };
    try {
        const PyRef v = unpickle(bytes, storage);
        (void)v->typeName();
    } catch (const Error&) {
    }
    return 0;
}
