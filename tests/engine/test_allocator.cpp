// The engine's CPU allocator (core/engine/allocator.h): large tensors carved from reserved
// arenas, freed blocks reused with their pages (no new page faults), neighbours merged, the pages
// returned by releaseCachedBlocks().
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engine/allocator.h"
#include "core/engine/device.h"

// After LibTorch: Qt's `slots` macro would rewrite its IValue::slots().
#include <QtTest>

using namespace msplit;

namespace {

constexpr int64_t kMiB = 1 << 20;

// A float tensor of `mib` MiB.
at::Tensor block(int64_t mib) {
    return at::empty({mib * kMiB / 4}, at::kFloat);
}

long minorFaults() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// Pages of [p, p + bytes) in memory now (0 when the range is no longer mapped at all).
size_t residentPages(void* p, size_t bytes) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> in((bytes + page - 1) / page);
    if (mincore(p, bytes, in.data()) != 0) return 0;
    size_t n = 0;
    for (unsigned char c : in)
        n += c & 1;
    return n;
}

}  // namespace

class TestAllocator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { engine::setThreads(0); }  // installs the allocator, as the apps do
    void init() { engine::releaseCachedBlocks(); }

    void largeTensorsAreOursAndSmallOnesAreNot() {
        const auto before = engine::largeBlockStats();
        at::Tensor big = block(4);
        QCOMPARE(engine::largeBlockStats().live, before.live + 4 * kMiB);
        at::Tensor small = at::empty({1000}, at::kFloat);
        QCOMPARE(engine::largeBlockStats().live, before.live + 4 * kMiB);
        big.fill_(2.0f);
        QCOMPARE(big.sum().item<double>(), 2.0 * kMiB);
        big.reset();
        QCOMPARE(engine::largeBlockStats().live, before.live);
        QCOMPARE(engine::largeBlockStats().cached, before.cached + 4 * kMiB);
        engine::releaseCachedBlocks();
        QCOMPARE(engine::largeBlockStats().cached, size_t(0));
    }

    // The point of the allocator: a forward frees and asks for blocks all the time, and a page
    // fault costs more than the arithmetic done on the page.
    void aReusedBlockTakesNoNewPageFaults() {
        at::Tensor a = block(64);
        a.fill_(1.0f);
        void* first = a.data_ptr();
        a.reset();
        long faults = minorFaults();
        at::Tensor b = block(40);  // smaller, then the full size again: no page is given up
        b.fill_(2.0f);
        b.reset();
        b = block(64);
        b.fill_(2.0f);
        QCOMPARE(b.data_ptr(), first);
        QVERIFY2(minorFaults() - faults <= 4, "the pages of the freed block were not reused");
        b.reset();
        engine::releaseCachedBlocks();  // now the pages are gone: filling again faults them in
        faults = minorFaults();
        at::Tensor c = block(64);
        c.fill_(3.0f);
        QVERIFY(minorFaults() - faults >= 16);  // 32 huge pages, or 16384 small ones
        QCOMPARE(c.sum().item<double>(), 3.0 * 16 * kMiB);
    }

    void aFreedBlockServesTheNextRequestThatFits() {
        at::Tensor a = block(8);
        void* first = a.data_ptr();
        a.reset();
        at::Tensor b = block(8);
        QCOMPARE(b.data_ptr(), first);  // same size: the same pages
        b.reset();
        at::Tensor c = block(5);  // smaller: the head of the freed block
        QCOMPARE(c.data_ptr(), first);
        QCOMPARE(engine::largeBlockStats().cached, size_t(3 * kMiB));
        at::Tensor d = block(3);  // and the rest of it
        QCOMPARE(d.data_ptr(), static_cast<void*>(static_cast<char*>(first) + 5 * kMiB));
        QCOMPARE(engine::largeBlockStats().cached, size_t(0));
        c.fill_(1.0f);
        d.fill_(2.0f);
        QCOMPARE(c.sum().item<double>(), 5.0 * kMiB / 4);
        QCOMPARE(d.sum().item<double>(), 2.0 * 3 * kMiB / 4);
    }

    void freedNeighboursMerge() {
        std::vector<at::Tensor> three{block(16), block(16), block(16)};
        for (auto& t : three)
            t.fill_(3.0f);
        void* first = three[0].data_ptr();
        QCOMPARE(three[1].data_ptr(), static_cast<void*>(static_cast<char*>(first) + 16 * kMiB));
        const auto peak = engine::largeBlockStats().peak;
        three[2].reset();
        three[0].reset();
        three[1].reset();  // merges with both neighbours
        QCOMPARE(engine::largeBlockStats().cached, size_t(48 * kMiB));
        // 40 MiB fit in the merged hole: the same pages, nothing new.
        at::Tensor big = block(40);
        QCOMPARE(big.data_ptr(), first);
        QCOMPARE(engine::largeBlockStats().cached, size_t(8 * kMiB));
        QCOMPARE(engine::largeBlockStats().peak, peak);
        big.fill_(1.0f);
        QCOMPARE(big.sum().item<double>(), 10.0 * kMiB);
    }

    void releasingReturnsThePages() {
        at::Tensor a = block(32);
        a.fill_(1.0f);
        void* p = a.data_ptr();
        QVERIFY(residentPages(p, 32 * kMiB) > 0);
        a.reset();
        QVERIFY(residentPages(p, 32 * kMiB) > 0);  // kept for the next request
        engine::releaseCachedBlocks();
        QCOMPARE(residentPages(p, 32 * kMiB), size_t(0));
        QCOMPARE(engine::largeBlockStats().cached, size_t(0));
        // A live block keeps its pages through a release.
        at::Tensor kept = block(8);
        kept.fill_(4.0f);
        at::Tensor freed = block(8);
        freed.fill_(5.0f);
        void* q = freed.data_ptr();
        freed.reset();
        engine::releaseCachedBlocks();
        QCOMPARE(residentPages(q, 8 * kMiB), size_t(0));
        QCOMPARE(kept.sum().item<double>(), 4.0 * 2 * kMiB);
    }

    // Holes too small for the next request are not kept at any cost: once the pages held
    // would pass the live peak by more than a little, the largest holes give theirs back.
    void heldPagesStayNearTheLivePeak() {
        std::vector<at::Tensor> three{block(16), block(16), block(16)};
        for (auto& t : three)
            t.fill_(1.0f);
        void* a = three[0].data_ptr();
        void* c = three[2].data_ptr();
        three[0].reset();
        three[2].reset();  // two 16 MiB holes around a live block (c merges with the free tail)
        QCOMPARE(engine::largeBlockStats().cached, size_t(32 * kMiB));
        at::Tensor big = block(32);  // fits in neither: fresh pages after c
        big.fill_(2.0f);
        const auto stats = engine::largeBlockStats();
        QCOMPARE(stats.live, size_t(48 * kMiB));
        QVERIFY2(stats.cached <= 8 * kMiB, "free pages beyond the peak were kept");
        QVERIFY(residentPages(a, 16 * kMiB) == 0 || residentPages(c, 16 * kMiB) == 0);
        QCOMPARE(three[1].sum().item<double>(), 4.0 * kMiB);
        QCOMPARE(big.sum().item<double>(), 2.0 * 8 * kMiB);
    }

    // Under strict overcommit (or an address-space limit) a 1 GiB reservation can be refused
    // while the block itself fits: the arena shrinks to the request. In a child process, whose
    // address space is limited to what it uses now plus 512 MiB.
    void aSmallerArenaWhenAddressSpaceIsShort() {
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            long pages = 0, resident = 0;
            std::FILE* statm = std::fopen("/proc/self/statm", "r");
            if (!statm || std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) _exit(2);
            std::fclose(statm);
            const rlim_t limit = rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + 512 * kMiB;
            const rlimit as{limit, limit};
            if (setrlimit(RLIMIT_AS, &as) != 0) _exit(3);
            int status = 0;
            try {  // the raw allocator: no OpenMP threads in a forked child
                void* p = c10::GetCPUAllocator()->raw_allocate(200 * kMiB);
                std::memset(p, 7, 200 * kMiB);
                c10::GetCPUAllocator()->raw_deallocate(p);
            } catch (const std::bad_alloc&) {
                status = 1;
            }
            _exit(status);
        }
        int status = -1;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 0);
    }

    void anImpossibleSizeIsBadAllocAndChangesNothing() {
        const auto before = engine::largeBlockStats();
        QVERIFY_THROWS_EXCEPTION(std::bad_alloc, block(int64_t(1) << 28));  // 256 TiB
        QCOMPARE(engine::largeBlockStats().live, before.live);
        QCOMPARE(block(4).numel(), int64_t(kMiB));
    }

    // oneDNN allocates through raw_allocate/raw_deallocate; the first version of the allocator
    // had no raw deleter and LibTorch's convolution aborted.
    void rawAllocationsAndOneDnnConvolutionsWork() {
        c10::Allocator* allocator = c10::GetCPUAllocator();
        for (size_t size : {size_t(100), size_t(3 * kMiB)}) {
            void* p = allocator->raw_allocate(size);
            QVERIFY(p);
            std::memset(p, 1, size);
            allocator->raw_deallocate(p);
        }
        at::manual_seed(1);
        const at::Tensor x = at::randn({1, 16, 256, 256});
        const at::Tensor w = at::randn({32, 16, 3, 3});
        const at::Tensor y = at::conv2d(x, w, {}, 1, 1);
        const at::Tensor ref = at::conv2d(x.to(at::kDouble), w.to(at::kDouble), {}, 1, 1);
        QVERIFY((y.to(at::kDouble) - ref).abs().max().item<double>() < 1e-3);
    }

    void threadsShareItSafely() {
        const auto before = engine::largeBlockStats();
        std::vector<std::thread> threads;
        std::atomic<int> wrong{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([t, &wrong] {
                std::mt19937 random(t);
                std::vector<at::Tensor> kept;
                for (int i = 0; i < 150; ++i) {
                    at::Tensor b = block(1 + random() % 12);
                    b.fill_(static_cast<float>(t));
                    kept.push_back(b);
                    if (kept.size() > 3) kept.erase(kept.begin() + random() % kept.size());
                    for (const auto& k : kept)
                        if (k[0].item<float>() != t || k[-1].item<float>() != t) ++wrong;
                }
            });
        for (auto& th : threads)
            th.join();
        QCOMPARE(wrong.load(), 0);
        QCOMPARE(engine::largeBlockStats().live, before.live);
    }
};

QTEST_GUILESS_MAIN(TestAllocator)
#include "test_allocator.moc"
