#include "core/engine/allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace msplit::engine {

namespace {

#ifdef __linux__
// The default allocator's deleter, for blocks that are not ours.
c10::DeleterFnPtr fallbackDelete = nullptr;

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kPage = 4096;
// Between separations the cache is trimmed; this bounds it within one (a forward's live peak is
// the real bound, see Mappings).
constexpr std::size_t kCacheLimit = std::size_t{1} << 30;

// A mapping of `n` bytes starting on a huge-page boundary, so that every whole 2 MiB of it can
// be a huge page; nullptr when the system refuses.
void* mapAligned(std::size_t n) {
    const std::size_t over = n + kHugePage;
    void* raw = mmap(nullptr, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const auto aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) munmap(raw, aligned - start);
    const std::size_t tail = start + over - (aligned + n);
    if (tail > 0) munmap(reinterpret_cast<void*>(aligned + n), tail);
    void* p = reinterpret_cast<void*>(aligned);
    madvise(p, n, MADV_HUGEPAGE);  // a hint: without THP the pages are simply 4 KiB
    return p;
}

// The live mappings, and a cache of freed ones: a forward frees a block and soon asks for one of
// the same size (the next frequency row, layer or segment); reusing it saves zeroing fresh pages.
// Before mapping anything new, cached blocks are unmapped (oldest first) until live + cached +
// new fits in the most bytes ever live at once: the cache never raises the peak.
class Mappings {
public:
    void* take(std::size_t n) {
        std::size_t length = (n + kPage - 1) & ~(kPage - 1);
        void* p = nullptr;
        std::vector<Block> unmap;
        Block grow{nullptr, 0};
        {
            std::lock_guard<std::mutex> guard(lock_);
            // The smallest cached block that fits: its pages are already there. Much more than
            // needed is cut off and returned.
            const auto hit = bySize_.lower_bound(length);
            if (hit != bySize_.end()) {
                const auto [block, size] = uncache(hit);
                p = block;
                if (size - length > length / 8)
                    unmap.emplace_back(static_cast<char*>(p) + length, size - length);
                else
                    length = size;
            } else if (!free_.empty()) {
                // The largest cached block grows into the new one (its pages are moved, not
                // copied), and the oldest others are unmapped until the process holds no more
                // than the most ever live at once.
                grow = takeLargest();
                const std::size_t bound = std::max(peak_, mapped_ + length);
                while (!free_.empty() && mapped_ + cached_ + length > bound)
                    unmap.push_back(evictOldest());
            }
        }
        unmapAll(unmap);
        if (!p) {
            p = mapAligned(length);
            if (grow.first && (!p || mremap(grow.first, grow.second, grow.second,
                                            MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED))
                munmap(grow.first, grow.second);
            if (!p) throw std::bad_alloc();
        }
        std::lock_guard<std::mutex> guard(lock_);
        live_.emplace(p, length);
        mapped_ += length;
        peak_ = std::max(peak_, mapped_);
        return p;
    }

    // False when `p` is not one of ours.
    bool give(void* p) {
        std::vector<Block> unmap;
        {
            std::lock_guard<std::mutex> guard(lock_);
            const auto it = live_.find(p);
            if (it == live_.end()) return false;
            const std::size_t length = it->second;
            live_.erase(it);
            mapped_ -= length;
            free_.emplace_back(p, length);
            bySize_.emplace(length, std::prev(free_.end()));
            cached_ += length;
            while (cached_ > kCacheLimit)
                unmap.push_back(evictOldest());
        }
        unmapAll(unmap);
        return true;
    }

    // Unmaps every cached block (after a separation, so an idle app holds nothing).
    void trim() {
        std::vector<Block> unmap;
        {
            std::lock_guard<std::mutex> guard(lock_);
            while (!free_.empty())
                unmap.push_back(evictOldest());
        }
        unmapAll(unmap);
    }

    LargeBlockStats stats() {
        std::lock_guard<std::mutex> guard(lock_);
        return {mapped_, cached_, peak_};
    }

private:
    using Block = std::pair<void*, std::size_t>;

    // Outside the lock: unmapping can take a while (TLB shootdowns on every core).
    static void unmapAll(const std::vector<Block>& blocks) {
        for (const auto& [p, length] : blocks)
            munmap(p, length);
    }

    using BySize = std::multimap<std::size_t, std::list<Block>::iterator>;

    // Takes a block out of the cache, given its entry in bySize_.
    Block uncache(BySize::iterator it) {
        const Block b = *it->second;
        free_.erase(it->second);
        bySize_.erase(it);
        cached_ -= b.second;
        return b;
    }

    Block takeLargest() { return uncache(std::prev(bySize_.end())); }

    Block evictOldest() {
        auto it = bySize_.lower_bound(free_.front().second);
        while (it->second != free_.begin())
            ++it;
        return uncache(it);
    }

    std::mutex lock_;
    std::unordered_map<void*, std::size_t> live_;
    std::list<Block> free_;  // oldest first
    BySize bySize_;
    // Bytes in tensors, bytes cached, and the most ever in tensors at once: by the eviction
    // rule, also the most ever held.
    std::size_t mapped_ = 0, cached_ = 0, peak_ = 0;
};

Mappings& mappings() {
    static Mappings m;
    return m;
}

// oneDNN frees through the raw deleter, which gets only the pointer. Our mappings start on a
// huge-page boundary, so other pointers skip the lookup.
void release(void* p) {
    if (reinterpret_cast<std::uintptr_t>(p) % kHugePage == 0 && mappings().give(p)) return;
    fallbackDelete(p);
}

class LargeBlockAllocator final : public c10::Allocator {
public:
    explicit LargeBlockAllocator(c10::Allocator* fallback) : fallback_(fallback) {}

    // LibTorch 1.13 declares allocate() const, 2.3+ non-const and adds copy_data(); defining
    // both forms (without `override`) makes one of them the override on either version.
    c10::DataPtr allocate(std::size_t n) const { return allocateBlock(n); }
    c10::DataPtr allocate(std::size_t n) { return allocateBlock(n); }
    void copy_data(void* dest, const void* src, std::size_t count) const {
        std::memcpy(dest, src, count);
    }
    c10::DeleterFnPtr raw_deleter() const override { return &release; }

private:
    c10::DataPtr allocateBlock(std::size_t n) const {
        if (n < kLargeTensorBytes) return fallback_->allocate(n);  // its deleter: fallbackDelete
        void* p = mappings().take(n);
        return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
    }

    c10::Allocator* fallback_;
};
#endif

}  // namespace

void installLargeBlockAllocator() {
#ifdef __linux__
    static const bool once = [] {
        c10::Allocator* fallback = c10::GetCPUAllocator();
        fallbackDelete = fallback->raw_deleter();
        if (!fallbackDelete) return false;  // not LibTorch's plain allocator: leave it alone
        static LargeBlockAllocator allocator(fallback);
        c10::SetCPUAllocator(&allocator, /*priority=*/1);
        return true;
    }();
    (void)once;
#endif
}

void releaseCachedBlocks() {
#ifdef __linux__
    mappings().trim();
#endif
}

LargeBlockStats largeBlockStats() {
#ifdef __linux__
    return mappings().stats();
#else
    return {};
#endif
}

}  // namespace msplit::engine
