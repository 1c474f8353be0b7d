#pragma once
// LibTorch's CPU allocator for the engine: large tensors get their own huge-page mappings.
#include <cstddef>

namespace msplit::engine {

// Installs the allocator once per process (later calls do nothing). Tensors of at least
// kLargeTensorBytes get their own mmap on transparent huge pages; freed ones are kept for reuse
// by the next request they fit, and unmapped before anything new is mapped, so the process
// holds no more than its peak of live tensors. Smaller tensors still come from
// LibTorch's default allocator.
//
// Why: a forward of htdemucs allocates and frees about 8 GB in blocks of 1-100 MB whose sizes
// change from layer to layer. Kept in glibc's heap they fragment it: peak RSS was about twice
// the live tensors, and depended on the last segment's length. Fresh 4 KiB-page mappings cost
// 40% more time in page faults; huge pages and the reuse bring that back to the heap's speed.
void installLargeBlockAllocator();

inline constexpr std::size_t kLargeTensorBytes = std::size_t{1} << 20;

// Unmaps the freed blocks kept for reuse (separate() does it when it ends).
void releaseCachedBlocks();

// Bytes of large blocks: in tensors now, kept for reuse now, and the most ever in tensors at
// once (the cache never holds more than that, so it is also the most ever held).
struct LargeBlockStats {
    std::size_t live = 0, cached = 0, peak = 0;
};
LargeBlockStats largeBlockStats();

}  // namespace msplit::engine
