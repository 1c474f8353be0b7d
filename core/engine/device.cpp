#include "core/engine/device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/engine/error.h"

namespace msplit::engine {

bool cudaAvailable() {
    return torch::cuda::is_available();
}

bool meansGpu(const std::string& name) {
    if (name == "auto" || name.empty()) return cudaAvailable();
    return name.rfind("cuda", 0) == 0;
}

at::Device parseDevice(const std::string& name) {
    if (name == "auto" || name.empty())
        return cudaAvailable() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    if (name == "cpu") return at::Device(at::kCPU);
    if (name.rfind("cuda", 0) == 0) {
        if (!cudaAvailable())
            throw Error("device " + name +
                        " requested but CUDA is not available in this build or machine");
        try {
            at::Device d(name);
            if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
                throw Error("no GPU number " + std::to_string(d.index()));
            return d.has_index() ? d : at::Device(at::kCUDA, 0);
        } catch (const c10::Error&) {
            throw Error("invalid device name '" + name + "' (use auto, cpu, cuda or cuda:N)");
        }
    }
    throw Error("invalid device name '" + name + "' (use auto, cpu, cuda or cuda:N)");
}

std::string deviceDescription(const at::Device& device) {
    if (device.is_cpu()) return "CPU (" + std::to_string(at::get_num_threads()) + " threads)";
    return "CUDA GPU " + std::to_string(device.index());
}

void tuneAllocator() {
#ifdef __GLIBC__
    // Every forward allocates and frees hundreds of MB in large blocks. By default glibc maps
    // and unmaps each one (page faults every time) and trims the heap after each free; keeping
    // them in the heap makes a separation about 12% faster.
    static const bool once = [] {
        if (std::getenv("MALLOC_MMAP_THRESHOLD_")) return false;  // the user's own tuning wins
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        return true;
    }();
    (void)once;
#endif
}

void setThreads(int n) {
    tuneAllocator();
    if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
}

at::ScalarType parsePrecision(const std::string& name, const at::Device& device) {
    if (name.empty() || name == "float32" || name == "fp32") return at::kFloat;
    at::ScalarType t;
    if (name == "float16" || name == "fp16")
        t = at::kHalf;
    else if (name == "bfloat16" || name == "bf16")
        t = at::kBFloat16;
    else
        throw Error("unknown precision '" + name + "' (use float32, float16 or bfloat16)");
    if (!device.is_cuda())
        throw Error("reduced precision (" + name + ") is only available on CUDA");
    return t;
}

}  // namespace msplit::engine
