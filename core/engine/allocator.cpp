#include "core/engine/allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <set>
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
// Blocks are carved in multiples of this: tensor sizes that differ by a few bytes share holes.
constexpr std::size_t kGrain = std::size_t{64} << 10;
// Address space reserved at a time (pages are only taken when touched).
constexpr std::size_t kArenaBytes = std::size_t{1} << 30;
// Pages held beyond the most ever live at once before free ones are given back during a
// separation (the first allocation that would go past it gives back the largest holes' pages).
constexpr std::size_t kSlack = std::size_t{8} << 20;

std::size_t roundUp(std::size_t n, std::size_t to) {
    return (n + to - 1) / to * to;
}

// `n` bytes of address space starting on a huge-page boundary, so that every whole 2 MiB of it can
// be a huge page; nullptr when the system refuses.
char* reserveAligned(std::size_t n) {
    const std::size_t over = n + kHugePage;
    void* raw = mmap(nullptr, over, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(raw);
    const auto aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) munmap(raw, aligned - start);
    const std::size_t tail = start + over - (aligned + n);
    if (tail > 0) munmap(reinterpret_cast<void*>(aligned + n), tail);
    auto* p = reinterpret_cast<char*>(aligned);
    madvise(p, n, MADV_HUGEPAGE);  // a hint: without THP the pages are simply 4 KiB
    return p;
}

// Large blocks carved from a few big reservations (arenas), best fit, freed neighbours merged.
// A freed block keeps its pages: a forward frees and asks for blocks of 1-100 MB all the time,
// and a page fault costs far more than the arithmetic on the page (several microseconds on bare
// metal, tens in some virtual machines: the old allocator, which returned pages to the system
// and mapped fresh ones, spent half of a CPU separation in the kernel). Which 2 MiB pages have
// been touched is tracked, and the pages held stay within the peak of live tensors (since the
// last trim) plus kSlack: when a block needs fresh pages beyond that, the largest holes give
// theirs back first. When a separation ends (trim) all free pages go back.
class Mappings {
public:
    void* take(std::size_t n) {
        const std::size_t length = roundUp(std::max<std::size_t>(n, 1), kGrain);
        if (length < n) throw std::bad_alloc();  // overflow
        std::lock_guard<std::mutex> guard(lock_);
        auto fit = bySize_.lower_bound({length, nullptr});
        if (fit == bySize_.end()) {
            addArena(roundUp(length, kHugePage));
            fit = bySize_.lower_bound({length, nullptr});
        }
        char* p = fit->second;
        const Block hole = holes_.at(p);
        eraseHole(p);
        if (hole.length > length) insertHole(p + length, {hole.length - length, hole.arena});
        live_.emplace(p, Block{length, hole.arena});
        mapped_ += length;
        peak_ = std::max(peak_, mapped_);
        peakSinceTrim_ = std::max(peakSinceTrim_, mapped_);
        touch(hole.arena, p, length);
        if (residentBytes() > peakSinceTrim_ + kSlack) releaseFreePages(peakSinceTrim_ + kSlack);
        return p;
    }

    // False when `p` is not one of ours.
    bool give(void* ptr) {
        auto* p = static_cast<char*>(ptr);
        std::lock_guard<std::mutex> guard(lock_);
        const auto it = live_.find(p);
        if (it == live_.end()) return false;
        const Block block = it->second;
        live_.erase(it);
        mapped_ -= block.length;
        Block hole = block;
        // Merge with the free neighbours of the same arena.
        const auto next = holes_.find(p + block.length);
        if (next != holes_.end() && next->second.arena == block.arena) {
            hole.length += next->second.length;
            eraseHole(next->first);
        }
        auto prev = holes_.lower_bound(p);
        if (prev != holes_.begin()) {
            --prev;
            if (prev->second.arena == block.arena && prev->first + prev->second.length == p) {
                p = prev->first;
                hole.length += prev->second.length;
                eraseHole(p);
            }
        }
        insertHole(p, hole);
        return true;
    }

    // Returns the pages of every free block, and arenas with nothing live (after a separation, so
    // an idle app holds nothing).
    void trim() {
        std::lock_guard<std::mutex> guard(lock_);
        releaseFreePages(0);
        peakSinceTrim_ = mapped_;
        for (Arena& a : arenas_) {
            if (!a.base) continue;
            const auto whole = holes_.find(a.base);
            if (whole == holes_.end() || whole->second.length != a.size) continue;
            eraseHole(a.base);
            munmap(a.base, a.size);
            residentPages_ -=
                static_cast<std::size_t>(std::count(a.resident.begin(), a.resident.end(), true));
            a = Arena{};
        }
    }

    LargeBlockStats stats() {
        std::lock_guard<std::mutex> guard(lock_);
        const std::size_t resident = residentBytes();
        return {mapped_, resident > mapped_ ? resident - mapped_ : 0, peak_};
    }

private:
    struct Arena {
        char* base = nullptr;
        std::size_t size = 0;
        std::vector<bool> resident;  // per 2 MiB page: touched since last given back
    };
    // A free hole or a live block: its length and the arena it lies in.
    struct Block {
        std::size_t length;
        std::size_t arena;
    };

    // An arena of kArenaBytes, or just `needed` bytes when the system refuses that much address
    // space (strict overcommit charges a reservation in full).
    void addArena(std::size_t needed) {
        std::size_t size = std::max(kArenaBytes, needed);
        char* base = reserveAligned(size);
        if (!base && size > needed) base = reserveAligned(size = needed);
        if (!base) throw std::bad_alloc();
        std::size_t index = 0;
        while (index < arenas_.size() && arenas_[index].base)
            ++index;
        if (index == arenas_.size()) arenas_.emplace_back();
        arenas_[index] = Arena{base, size, std::vector<bool>(size / kHugePage, false)};
        insertHole(base, {size, index});
    }

    void insertHole(char* p, Block h) {
        holes_.emplace(p, h);
        bySize_.emplace(h.length, p);
    }

    void eraseHole(char* p) {
        const auto it = holes_.find(p);
        bySize_.erase({it->second.length, p});
        holes_.erase(it);
    }

    // A block handed out is about to be written: its pages count as held.
    void touch(std::size_t arena, const char* p, std::size_t length) {
        Arena& a = arenas_[arena];
        const auto first = static_cast<std::size_t>(p - a.base) / kHugePage;
        const auto last = (static_cast<std::size_t>(p - a.base) + length - 1) / kHugePage;
        for (std::size_t i = first; i <= last; ++i)
            if (!a.resident[i]) {
                a.resident[i] = true;
                ++residentPages_;
            }
    }

    std::size_t residentBytes() const { return residentPages_ * kHugePage; }

    // Gives back the held pages lying wholly in holes, largest holes first, until at most
    // `bound` bytes are held (the addresses stay reserved).
    void releaseFreePages(std::size_t bound) {
        for (auto it = bySize_.rbegin(); it != bySize_.rend() && residentBytes() > bound; ++it) {
            char* p = it->second;
            Arena& a = arenas_[holes_.at(p).arena];
            const auto begin = roundUp(static_cast<std::size_t>(p - a.base), kHugePage);
            const auto end = static_cast<std::size_t>(p - a.base) + it->first;
            for (std::size_t page = begin / kHugePage; page < end / kHugePage; ++page) {
                if (!a.resident[page]) continue;
                std::size_t run = page;  // a run of held pages, given back in one call
                while (run < end / kHugePage && a.resident[run]) {
                    a.resident[run] = false;
                    --residentPages_;
                    ++run;
                }
                madvise(a.base + page * kHugePage, (run - page) * kHugePage, MADV_DONTNEED);
                page = run;
            }
        }
    }

    std::mutex lock_;
    std::vector<Arena> arenas_;     // a released arena leaves an empty slot (indices stay valid)
    std::map<char*, Block> holes_;  // free blocks by address, for merging
    std::set<std::pair<std::size_t, char*>> bySize_;  // the same by size, for the best fit
    std::unordered_map<char*, Block> live_;
    // Bytes in tensors now, the most ever at once and since the last trim; 2 MiB pages held.
    std::size_t mapped_ = 0, peak_ = 0, peakSinceTrim_ = 0, residentPages_ = 0;
};

Mappings& mappings() {
    static Mappings m;
    return m;
}

// oneDNN frees through the raw deleter, which gets only the pointer. Our blocks start on kGrain
// boundaries, so other pointers skip the locked lookup.
void release(void* p) {
    if (reinterpret_cast<std::uintptr_t>(p) % kGrain == 0 && mappings().give(p)) return;
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
