#include "core/player/peaks.h"

#include <algorithm>
#include <limits>

namespace msplit {

void PeakCache::build(std::shared_ptr<const std::vector<float>> samples,
                      const std::function<bool(double)>& progress) {
    samples_ = std::move(samples);
    ready_ = false;
    const auto n = static_cast<int64_t>(samples_->size());
    min_.assign(kLevels, {});
    max_.assign(kLevels, {});
    const int64_t blocks = (n + kBase - 1) / kBase;
    min_[0].resize(static_cast<size_t>(blocks));
    max_[0].resize(static_cast<size_t>(blocks));
    for (int64_t b = 0; b < blocks; ++b) {
        const auto first = samples_->begin() + b * kBase;
        const auto last = samples_->begin() + std::min(n, (b + 1) * kBase);
        const auto [lo, hi] = std::minmax_element(first, last);
        min_[0][static_cast<size_t>(b)] = *lo;
        max_[0][static_cast<size_t>(b)] = *hi;
        if (progress && b % 65536 == 0 && !progress(double(b) / double(blocks))) return;
    }
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
    ready_ = true;
    if (progress) progress(1.0);
}

std::pair<float, float> PeakCache::range(int64_t from, int64_t to) const {
    from = std::max<int64_t>(0, from);
    to = std::min(to, frames());
    if (to <= from || !samples_) return {0.0f, 0.0f};
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    // Whole blocks of the coarsest fitting level in the middle, raw samples at the ragged edges.
    int level = 0;
    int64_t block = kBase;
    while (ready_ && level + 1 < kLevels && block * kFactor * 2 <= to - from) {
        ++level;
        block *= kFactor;
    }
    int64_t i = from;
    if (ready_ && to - from >= 2 * kBase) {
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
