#include "core/engine/blas.h"

#include <cstdlib>
#include <cstring>
#include <string>

// OpenBLAS's API, declared weak: with another BLAS they are null and nothing is called. The
// gotoblas_dynamic_* pair is what OpenBLAS itself runs when it loads (DYNAMIC_ARCH builds).
extern "C" {
char* openblas_get_corename(void) __attribute__((weak));
char* openblas_get_config(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
// And what it runs to read its environment and to start or stop its thread pool (pthreads builds).
void openblas_read_env(void) __attribute__((weak));
int blas_thread_init(void) __attribute__((weak));
int blas_thread_shutdown_(void) __attribute__((weak));
}

namespace msplit::engine {

namespace {

// What a CPU with AVX2 gets when OpenBLAS does not know its model: these have no AVX2 kernels.
bool isPreAvx2Core(const char* name) {
    static const char* const kOld[] = {
        "Unknown",   "Katmai", "Coppermine",  "Northwood", "Prescott",  "Banias",    "Atom",
        "Core2",     "Penryn", "Dunnington",  "Nehalem",   "Athlon",    "Opteron",   "Opteron_SSE3",
        "Barcelona", "Nano",   "Sandybridge", "Bobcat",    "Bulldozer", "Piledriver"};
    for (const char* old : kOld)
        if (std::strcmp(name, old) == 0) return true;
    return false;
}

const char* coreTypeForThisCpu() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512cd"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
#endif
    return nullptr;
}

void chooseKernels() {
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
    if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice wins
    const char* better = coreTypeForThisCpu();
    if (!better || !isPreAvx2Core(openblas_get_corename())) return;
    setenv("OPENBLAS_CORETYPE", better, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");  // child processes make their own choice
}

void stopSpinning() {
    if (!openblas_read_env || !blas_thread_init || !blas_thread_shutdown_) return;
    if (std::getenv("OPENBLAS_THREAD_TIMEOUT")) return;
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);  // 2^4 cycles, OpenBLAS's minimum
    openblas_read_env();
    blas_thread_shutdown_();  // the pool restarts with the new timeout
    blas_thread_init();
    unsetenv("OPENBLAS_THREAD_TIMEOUT");
    openblas_read_env();
}

}  // namespace

void tuneBlas() {
    chooseKernels();
    stopSpinning();
}

void setBlasThreads(int n) {
    if (openblas_set_num_threads) openblas_set_num_threads(n);
}

std::string blasDescription() {
    if (!openblas_get_corename || !openblas_get_config) return {};
    // The configuration starts "OpenBLAS 0.3.21 DYNAMIC_ARCH ...": keep the name and version.
    const std::string config = openblas_get_config();
    const size_t end = config.find(' ', config.find(' ') + 1);
    return config.substr(0, end) + " (" + openblas_get_corename() + " kernels)";
}

}  // namespace msplit::engine
