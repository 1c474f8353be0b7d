#include "core/engine/device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/engine/allocator.h"
#include "core/engine/blas.h"
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

std::string gpuName(int index) {
    // NVIDIA's driver lists its GPUs by PCI address, CUDA's default order when all are visible;
    // this needs no CUDA headers, so CPU builds of LibTorch compile it too.
    namespace fs = std::filesystem;
    std::vector<fs::path> gpus;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/driver/nvidia/gpus", ec))
        gpus.push_back(e.path());
    std::sort(gpus.begin(), gpus.end());
    if (index < 0 || index >= static_cast<int>(gpus.size())) return {};
    std::ifstream info(gpus[static_cast<size_t>(index)] / "information");
    for (std::string line; std::getline(info, line);)
        if (line.rfind("Model:", 0) == 0) {
            const auto start = line.find_first_not_of(" \t", 6);
            return start == std::string::npos ? std::string() : line.substr(start);
        }
    return {};
}

std::string describeDevice(const std::string& device) {
    return deviceDescription(parseDevice(device));
}

std::string deviceDescription(const at::Device& device) {
    if (device.is_cpu()) return "CPU (" + std::to_string(at::get_num_threads()) + " threads)";
    const int index = device.has_index() ? device.index() : 0;
    const std::string name = gpuName(index);
    return name.empty() ? "CUDA GPU " + std::to_string(index) : name;
}

namespace {

// Large tensors bypass glibc (see allocator.h), so its heap holds only small blocks.
void tuneGlibcHeap() {
#ifdef __GLIBC__
    // One arena: LibTorch's worker threads otherwise each keep their own heap of freed blocks;
    // per-thread caches still serve small allocations without the lock.
    if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);
    if (std::getenv("MALLOC_MMAP_THRESHOLD_")) return;  // the user's own tuning wins
    // The small blocks stay in the heap instead of being mapped and trimmed each time (page
    // faults); anything as large as a large tensor is mapped, like those.
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(kLargeTensorBytes));
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
#endif
}

}  // namespace

void prepareProcess() {
    static const bool once = [] {
        tuneBlas();
        installLargeBlockAllocator();
        tuneGlibcHeap();
        return true;
    }();
    (void)once;
}

void relaunchWithPassiveThreads(char** argv) {
#ifdef __linux__
    if (std::getenv("OMP_WAIT_POLICY") || !argv || !argv[0]) return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    // Not executed again (no /proc?): the program goes on as it is; only its children see it.
#else
    (void)argv;
#endif
}

std::string ompWaitPolicy() {
    const char* v = std::getenv("OMP_WAIT_POLICY");
    return v && *v ? v : "default";
}

void setThreads(int n) {
    prepareProcess();
    if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
    setBlasThreads(n);
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
    // bfloat16 on the CPU only where it has instructions for it (oneDNN uses them); elsewhere it
    // would be emulated, slower than float32.
    if (!device.is_cuda()) {
        if (t == at::kHalf) throw Error("float16 is only available on CUDA");
        if (!cpuHasBf16())
            throw Error(
                "bfloat16 needs CUDA, or a CPU with AVX512-BF16 or AMX (this one has "
                "neither)");
        if (TORCH_VERSION_MAJOR >= 2)
            // Measured with LibTorch 2.6 (Debian 13): 5.5 dB from the official float32 output
            // of a reference case, where 1.13 gives 26 dB; some layer loses its float32
            // accumulation there. Not offered until that layer is found.
            throw Error(
                "bfloat16 on the CPU is not offered with LibTorch 2 (too far from "
                "float32); use float32");
    }
    return t;
}

bool cpuHasBf16() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool amx = (d >> 22) & 1;  // AMX-BF16
    const unsigned maxSub = a;
    bool avx512 = false;
    if (maxSub >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) avx512 = (a >> 5) & 1;
    return avx512 || amx;
#else
    return false;
#endif
}

}  // namespace msplit::engine
