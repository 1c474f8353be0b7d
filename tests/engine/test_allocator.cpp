// The engine's CPU allocator (core/engine/allocator.h): large tensors on their own huge-page
// mappings, freed blocks reused, never more held than the peak of live tensors.
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstring>
#include <new>
#include <random>
#include <thread>
#include <vector>

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

bool hugePageAligned(const at::Tensor& t) {
    return reinterpret_cast<std::uintptr_t>(t.data_ptr()) % (2 * kMiB) == 0;
}

}  // namespace

class TestAllocator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { engine::setThreads(0); }  // installs the allocator, as the apps do
    void init() { engine::releaseCachedBlocks(); }

    void largeTensorsAreMappedAndSmallOnesAreNot() {
        const auto before = engine::largeBlockStats();
        at::Tensor big = block(4);
        QVERIFY(hugePageAligned(big));
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

    void aFreedBlockServesTheNextRequestThatFits() {
        at::Tensor a = block(8);
        void* first = a.data_ptr();
        a.reset();
        at::Tensor b = block(8);
        QCOMPARE(b.data_ptr(), first);  // same size: the same pages
        b.reset();
        at::Tensor c = block(5);  // smaller: the head of the cached block, the tail returned
        QCOMPARE(c.data_ptr(), first);
        QCOMPARE(engine::largeBlockStats().cached, size_t(0));
        c.fill_(1.0f);
        QCOMPARE(c.sum().item<double>(), 5.0 * kMiB / 4);
    }

    void neverHoldsMoreThanTheLivePeak() {
        const auto before = engine::largeBlockStats();
        {
            std::vector<at::Tensor> three{block(16), block(16), block(16)};
            for (auto& t : three)
                t.fill_(3.0f);
        }
        QCOMPARE(engine::largeBlockStats().cached, size_t(48 * kMiB));
        // Nothing cached fits 40 MiB: the largest block grows into it and the others make
        // room, so the process holds 40 MiB, not 48 + 40.
        at::Tensor big = block(40);
        const auto after = engine::largeBlockStats();
        QCOMPARE(after.live, before.live + 40 * kMiB);
        QCOMPARE(after.cached, size_t(0));
        QVERIFY(hugePageAligned(big));
        big.fill_(1.0f);
        QCOMPARE(big.sum().item<double>(), 10.0 * kMiB);
        QVERIFY(after.peak <= before.live + 48 * kMiB + before.cached);
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
