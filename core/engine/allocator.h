#pragma once
// LibTorch's CPU allocator for the engine: large tensors reuse the pages of freed ones.
#include <cstddef>

namespace msplit::engine {

// Installs the allocator once per process (later calls do nothing). Tensors of at least
// kLargeTensorBytes are carved from a few large reservations on transparent huge pages (best
// fit, free neighbours merged); a freed block keeps its pages for the next request, so a forward
// pass touches fresh memory only while it grows past what it held before. The pages held stay
// within the peak of live tensors plus 8 MiB (the largest free holes give theirs back first),
// and all free pages go back when a separation ends (releaseCachedBlocks). Smaller tensors
// still come from LibTorch's default allocator.
//
// Why: a forward of htdemucs allocates and frees about 8 GB in blocks of 1-100 MB whose sizes
// change from layer to layer. Kept in glibc's heap they fragment it (peak RSS about twice the
// live tensors); mapped and unmapped per block, every block costs fresh page faults, and on
// virtual machines, where a fault costs tens of microseconds, that was half of a separation's
// time.
void installLargeBlockAllocator();

inline constexpr std::size_t kLargeTensorBytes = std::size_t{1} << 20;

// Returns the pages of the freed blocks kept for reuse (separate() does it when it ends).
void releaseCachedBlocks();

// Bytes of large blocks: in tensors now, free but with their pages possibly still held (an
// upper bound), and the most ever in tensors at once.
struct LargeBlockStats {
    std::size_t live = 0, cached = 0, peak = 0;
};
LargeBlockStats largeBlockStats();

}  // namespace msplit::engine
