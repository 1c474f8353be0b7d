#include "core/audio/peaks.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"

namespace msplit {
namespace {

constexpr float kHigh = std::numeric_limits<float>::max();
constexpr float kLow = std::numeric_limits<float>::lowest();
constexpr char kMagic[8] = {'M', 'S', 'P', 'E', 'A', 'K', 'S', '1'};

int64_t blockFrames(int level) {
    int64_t b = PeakCache::kBase;
    for (int l = 0; l < level; ++l)
        b *= PeakCache::kFactor;
    return b;
}

}  // namespace

PeakCache::PeakCache(int64_t frames)
    : capacity_(std::max<int64_t>(0, frames)), lo_(kHigh), hi_(kLow) {
    min_.resize(kLevels);
    max_.resize(kLevels);
    for (int level = 0; level < kLevels; ++level) {
        const int64_t b = blockFrames(level);
        const auto count = static_cast<size_t>((capacity_ + b - 1) / b);
        min_[size_t(level)].assign(count, kHigh);
        max_[size_t(level)].assign(count, kLow);
    }
}

void PeakCache::grow(float lo, float hi) {
    if (blocks_ >= static_cast<int64_t>(min_[0].size())) return;  // beyond the expected length
    for (int level = 0; level < kLevels; ++level) {
        const auto i = static_cast<size_t>(blocks_ >> (2 * level));  // kFactor 4: two bits a level
        auto& lows = min_[size_t(level)];
        auto& highs = max_[size_t(level)];
        lows[i] = std::min(lows[i], lo);
        highs[i] = std::max(highs[i], hi);
    }
    ++blocks_;
}

void PeakCache::append(const float* planar, int channels, int64_t n) {
    const int64_t room = capacity_ - (blocks_ * kBase + partial_);
    const int64_t take = std::min(n, room);
    for (int64_t i = 0; i < take; ++i) {
        float x = planar[i];
        if (channels > 1) {
            for (int c = 1; c < channels; ++c)
                x += planar[c * n + i];
            x /= float(channels);
        }
        lo_ = std::min(lo_, x);
        hi_ = std::max(hi_, x);
        if (++partial_ == kBase) {
            grow(lo_, hi_);
            partial_ = 0;
            lo_ = kHigh;
            hi_ = kLow;
        }
    }
    built_.store(blocks_ * kBase, std::memory_order_release);
}

void PeakCache::finish() {
    if (finished()) return;
    const int64_t frames = blocks_ * kBase + partial_;
    if (partial_ > 0) grow(lo_, hi_);
    partial_ = 0;
    capacity_ = frames;
    built_.store(frames, std::memory_order_release);
    finished_.store(true, std::memory_order_release);
}

std::pair<float, float> PeakCache::range(int64_t from, int64_t to) const {
    const int64_t built = builtFrames();
    from = std::max<int64_t>(0, from);
    to = std::min(to, built);
    if (to <= from) return {0.0f, 0.0f};
    // The finest blocks that cover the range, taken from the coarsest level whose blocks fit.
    int64_t first = from / kBase, last = (to + kBase - 1) / kBase;  // finest blocks [first, last)
    float lo = kHigh, hi = kLow;
    int level = kLevels - 1;
    while (first < last) {
        // The coarsest level with a whole block starting at `first` inside the range.
        level = kLevels - 1;
        while (level > 0) {
            const int64_t span = int64_t(1) << (2 * level);
            if (first % span == 0 && first + span <= last) break;
            --level;
        }
        const auto i = static_cast<size_t>(first >> (2 * level));
        lo = std::min(lo, min_[size_t(level)][i]);
        hi = std::max(hi, max_[size_t(level)][i]);
        first += int64_t(1) << (2 * level);
    }
    return {lo, hi};
}

void PeakCache::save(const std::string& path) const {
    if (!finished()) throw Error(ErrorKind::Internal, path, "the peaks are not complete");
    AtomicFile file(path);
    {
        std::ofstream out(file.tempPath(), std::ios::binary | std::ios::trunc);
        const int64_t frames = builtFrames();
        const auto count = static_cast<int64_t>((frames + kBase - 1) / kBase);
        out.write(kMagic, sizeof kMagic);
        out.write(reinterpret_cast<const char*>(&frames), sizeof frames);
        out.write(reinterpret_cast<const char*>(min_[0].data()), count * int64_t(sizeof(float)));
        out.write(reinterpret_cast<const char*>(max_[0].data()), count * int64_t(sizeof(float)));
        out.flush();
        if (!out) throw Error(ErrorKind::Io, path, "cannot write the waveform's peaks");
    }
    file.commit();
}

bool PeakCache::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[sizeof kMagic];
    int64_t frames = 0;
    if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0 ||
        !in.read(reinterpret_cast<char*>(&frames), sizeof frames))
        return false;
    // The size must be exactly what the length says (a hostile length asks for nothing).
    in.seekg(0, std::ios::end);
    const auto size = static_cast<int64_t>(in.tellg());
    const int64_t header = sizeof kMagic + sizeof frames;
    if (frames <= 0 || frames > (int64_t(1) << 40)) return false;
    const int64_t count = (frames + kBase - 1) / kBase;
    if (size - header != 2 * count * int64_t(sizeof(float))) return false;
    std::vector<float> lows(static_cast<size_t>(count)), highs(static_cast<size_t>(count));
    in.seekg(header);
    if (!in.read(reinterpret_cast<char*>(lows.data()), count * int64_t(sizeof(float))) ||
        !in.read(reinterpret_cast<char*>(highs.data()), count * int64_t(sizeof(float))))
        return false;
    for (int64_t i = 0; i < count; ++i)
        if (!std::isfinite(lows[size_t(i)]) || !std::isfinite(highs[size_t(i)]) ||
            lows[size_t(i)] > highs[size_t(i)])
            return false;
    // Only a cache nobody draws yet is filled (load comes before it is shared).
    PeakCache fresh(frames);
    for (int64_t i = 0; i < count; ++i)
        fresh.grow(lows[size_t(i)], highs[size_t(i)]);
    capacity_ = frames;
    min_ = std::move(fresh.min_);
    max_ = std::move(fresh.max_);
    blocks_ = count;
    partial_ = 0;
    built_.store(frames, std::memory_order_release);
    finished_.store(true, std::memory_order_release);
    return true;
}

std::shared_ptr<PeakCache> peaksOf(const AudioBuffer& audio) {
    auto peaks = std::make_shared<PeakCache>(audio.frames());
    peaks->append(audio.samples.data(), audio.channels, audio.frames());
    peaks->finish();
    return peaks;
}

}  // namespace msplit
