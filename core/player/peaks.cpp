#include "core/player/peaks.h"

#include <algorithm>
#include <limits>

namespace msplit {

void PeakCache::setSource(std::shared_ptr<const AudioBuffer> audio) {
    audio_ = std::move(audio);
    ready_ = false;
    built_ = 0;
    const int64_t blocks = (frames() + kBase - 1) / kBase;
    min_.assign(kLevels, {});
    max_.assign(kLevels, {});
    min_[0].resize(static_cast<size_t>(blocks));
    max_[0].resize(static_cast<size_t>(blocks));
}

void PeakCache::build(std::shared_ptr<const AudioBuffer> audio,
                      const std::function<bool(double)>& progress) {
    setSource(std::move(audio));
    build(progress);
}

void PeakCache::build(const std::function<bool(double)>& progress) {
    const int64_t n = frames();
    const auto blocks = static_cast<int64_t>(min_.empty() ? 0 : min_[0].size());
    for (int64_t b = 0; b < blocks; ++b) {
        float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
        for (int64_t i = b * kBase, e = std::min(n, (b + 1) * kBase); i < e; ++i) {
            const float x = sample(i);
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
        min_[0][static_cast<size_t>(b)] = lo;
        max_[0][static_cast<size_t>(b)] = hi;
        if ((b + 1) % kChunkBlocks == 0) {  // readers may use everything before this point now
            built_.store((b + 1) * kBase, std::memory_order_release);
            if (progress && !progress(double(b + 1) / double(blocks))) return;
        }
    }
    built_.store(n, std::memory_order_release);
    // The coarser levels go in before `ready_` says so: readers only touch them after that.
    for (int level = 1; level < kLevels; ++level) {
        const auto& pmin = min_[level - 1];
        const auto& pmax = max_[level - 1];
        const size_t count = (pmin.size() + kFactor - 1) / kFactor;
        min_[level].resize(count);
        max_[level].resize(count);
        for (size_t i = 0; i < count; ++i) {
            const size_t a = i * kFactor, e = std::min(pmin.size(), a + kFactor);
            min_[level][i] = *std::min_element(pmin.begin() + long(a), pmin.begin() + long(e));
            max_[level][i] = *std::max_element(pmax.begin() + long(a), pmax.begin() + long(e));
        }
    }
    ready_.store(true, std::memory_order_release);
    if (progress) progress(1.0);
}

std::pair<float, float> PeakCache::range(int64_t from, int64_t to) const {
    const bool all = ready();
    from = std::max<int64_t>(0, from);
    // Until the peaks are complete, only the built part is seen (raw samples would stall a
    // long song's first paint).
    to = std::min(to, all ? frames() : builtFrames());
    if (to <= from || !audio_) return {0.0f, 0.0f};
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    // Whole blocks of the coarsest fitting level in the middle, raw samples at the ragged edges.
    int level = 0;
    int64_t block = kBase;
    while (all && level + 1 < kLevels && block * kFactor * 2 <= to - from) {
        ++level;
        block *= kFactor;
    }
    int64_t i = from;
    if (to - from >= 2 * kBase) {
        const int64_t firstBlock = (from + block - 1) / block, lastBlock = to / block;
        for (; i < std::min(to, firstBlock * block); ++i) {
            lo = std::min(lo, sample(i));
            hi = std::max(hi, sample(i));
        }
        for (int64_t b = firstBlock; b < lastBlock; ++b) {
            lo = std::min(lo, min_[level][static_cast<size_t>(b)]);
            hi = std::max(hi, max_[level][static_cast<size_t>(b)]);
        }
        i = std::max(i, lastBlock * block);
    }
    for (; i < to; ++i) {
        lo = std::min(lo, sample(i));
        hi = std::max(hi, sample(i));
    }
    return {lo, hi};
}

}  // namespace msplit
