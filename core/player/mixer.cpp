#include "core/player/mixer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/player/click_lane.h"

namespace msplit {
namespace {

constexpr int64_t kRing = int64_t(1) << 17;  // frames a disk lane keeps ready (~3 s)
constexpr int64_t kChunk = 8192;             // frames the reader thread reads at a time

}  // namespace

struct Mixer::Lane {
    // In memory.
    std::shared_ptr<const AudioBuffer> audio;
    const float* left = nullptr;   // channel 0
    const float* right = nullptr;  // channel 1, or 0 again for mono
    // On disk: the source (the reader thread's) and a ring of interleaved stereo frames, filled
    // by the reader thread for one plan and emptied by the audio thread.
    std::unique_ptr<LaneSource> source;
    std::vector<float> ring;
    std::atomic<int64_t> head{0}, tail{0};  // frames put in / taken out since the plan began
    std::atomic<int64_t> ringEpoch{-1};     // the plan whose frames the ring holds
    int64_t next = 0;                       // reader: the next frame to read
    int64_t sourcePos = 0;                  // reader: where the source stands
    std::vector<float> scratch;             // reader: one chunk
    std::atomic<int64_t> size{0};           // frames; shortened if a file ends early
    // Settings (UI thread) and the gains they make (read by the audio thread).
    double gain = 1, pan = 0;
    bool mute = false, solo = false;
    std::atomic<double> want[2] = {1.0, 1.0};
    // Audio thread: the gains in effect, ramping towards `aim`.
    double current[2] = {1, 1}, step[2] = {0, 0}, aim[2] = {1, 1};
    int64_t rampLeft = 0;
    bool onDisk() const { return source != nullptr; }
};

Mixer::Mixer(int sampleRate, int rampFrames) : rate_(sampleRate), ramp_(std::max(1, rampFrames)) {}

Mixer::~Mixer() {
    quit_ = true;
    wake_.notify_all();
    if (reader_.joinable()) reader_.join();
}

int Mixer::addLane(std::shared_ptr<const AudioBuffer> audio) {
    auto l = std::make_unique<Lane>();
    l->size = audio->frames();
    l->left = audio->channel(0);
    l->right = audio->channels > 1 ? audio->channel(1) : audio->channel(0);
    l->audio = std::move(audio);
    return addLane(std::move(l));
}

int Mixer::addLane(std::unique_ptr<LaneSource> source) {
    auto l = std::make_unique<Lane>();
    l->size = source->frames();
    l->source = std::move(source);
    l->ring.resize(static_cast<size_t>(2 * kRing));
    l->scratch.resize(static_cast<size_t>(2 * kChunk));
    return addLane(std::move(l));
}

int Mixer::addLane(std::unique_ptr<Lane> lane) {
    const bool disk = lane->onDisk();
    {
        std::lock_guard<std::mutex> lock(wakeMutex_);  // the reader thread walks the lanes
        length_ = std::max<int64_t>(length_, lane->size);
        lanes_.push_back(std::move(lane));
    }
    publishTargets();
    if (disk && !reader_.joinable()) reader_ = std::thread([this] { readerLoop(); });
    return static_cast<int>(lanes_.size()) - 1;
}

int64_t Mixer::length() const {
    return length_;
}

int64_t Mixer::frontier() const {
    int64_t f = length_;
    for (const auto& l : lanes_)
        if (l->onDisk()) {
            const int64_t size = l->size.load(std::memory_order_relaxed);
            const int64_t ready = l->source->ready();
            if (ready < size) f = std::min(f, ready);
        }
    return f;
}

bool Mixer::heard(const Lane& l) const {
    bool anySolo = false;
    for (const auto& o : lanes_)
        anySolo = anySolo || o->solo;
    return !(l.mute || (anySolo && !l.solo));
}

double Mixer::target(const Lane& l, int side) const {
    if (!heard(l)) return 0;
    const double balance = side == 0 ? std::min(1.0, 1.0 - l.pan) : std::min(1.0, 1.0 + l.pan);
    return l.gain * balance;
}

void Mixer::publishTargets() {
    for (auto& l : lanes_)
        for (int s = 0; s < 2; ++s)
            l->want[s].store(target(*l, s), std::memory_order_relaxed);
}

std::array<double, 2> Mixer::heardGain(int lane) const {
    const Lane& l = *lanes_.at(static_cast<size_t>(lane));
    return {target(l, 0), target(l, 1)};
}

void Mixer::setGainDb(int lane, double db) {
    lanes_.at(static_cast<size_t>(lane))->gain = std::pow(10.0, db / 20.0);
    publishTargets();
}
void Mixer::setMute(int lane, bool on) {
    lanes_.at(static_cast<size_t>(lane))->mute = on;
    publishTargets();
}
void Mixer::setSolo(int lane, bool on) {
    lanes_.at(static_cast<size_t>(lane))->solo = on;
    publishTargets();
}
void Mixer::setPan(int lane, double pan) {
    lanes_.at(static_cast<size_t>(lane))->pan = std::clamp(pan, -1.0, 1.0);
    publishTargets();
}
bool Mixer::muted(int lane) const {
    return lanes_.at(static_cast<size_t>(lane))->mute;
}
bool Mixer::soloed(int lane) const {
    return lanes_.at(static_cast<size_t>(lane))->solo;
}
bool Mixer::audible(int lane) const {
    return heard(*lanes_.at(static_cast<size_t>(lane)));
}

void Mixer::seek(int64_t frame) {
    seekTarget_.store(std::clamp<int64_t>(frame, 0, length_), std::memory_order_relaxed);
    seekCount_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();
}

int64_t Mixer::position() const {
    // A seek the audio thread has not taken up yet is where the song is.
    if (seekCount_.load(std::memory_order_acquire) !=
        seenSeeksShared_.load(std::memory_order_acquire))
        return seekTarget_.load(std::memory_order_relaxed);
    return pos_.load(std::memory_order_relaxed);
}

void Mixer::setLoop(int64_t start, int64_t end) {
    start = std::clamp<int64_t>(start, 0, 0xffffffffLL);
    end = std::clamp<int64_t>(end, 0, 0xffffffffLL);
    loop_.store(uint64_t(start) << 32 | uint64_t(end), std::memory_order_relaxed);
    loopCount_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();
}

std::pair<int64_t, int64_t> Mixer::loop() const {
    const uint64_t v = loop_.load(std::memory_order_relaxed);
    return {int64_t(v >> 32), int64_t(v & 0xffffffffULL)};
}

bool Mixer::looping() const {
    const uint64_t v = loop_.load(std::memory_order_relaxed);
    return (v & 0xffffffffULL) > (v >> 32);
}

void Mixer::adopt(int64_t start) {
    pos_.store(start, std::memory_order_relaxed);
    const uint64_t seq = planSeq_.load(std::memory_order_relaxed);
    planSeq_.store(seq + 1, std::memory_order_relaxed);  // odd: being written
    std::atomic_thread_fence(std::memory_order_release);
    planEpoch_.store(planEpoch_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    planStart_.store(start, std::memory_order_relaxed);
    planLoopStart_.store(loopStart_, std::memory_order_relaxed);
    planLoopEnd_.store(loopEnd_, std::memory_order_relaxed);
    planSeq_.store(seq + 2, std::memory_order_release);
}

int64_t Mixer::renderSpan(float* out, int64_t frames, bool* dry) {
    const int64_t pos = pos_.load(std::memory_order_relaxed);
    const int64_t epoch = planEpoch_.load(std::memory_order_relaxed);
    // As far as every disk lane has its frames: the lanes move together or not at all.
    for (auto& l : lanes_) {
        if (!l->onDisk()) continue;
        const int64_t need = std::min(frames, l->size.load(std::memory_order_acquire) - pos);
        if (need <= 0) continue;
        const int64_t have =
            l->ringEpoch.load(std::memory_order_acquire) == epoch
                ? l->head.load(std::memory_order_acquire) - l->tail.load(std::memory_order_relaxed)
                : 0;
        if (have < need) {
            frames = std::min(frames, have);
            *dry = true;
        }
    }
    std::fill(out, out + 2 * frames, 0.0f);
    for (auto& l : lanes_) {
        const int64_t own =
            std::clamp<int64_t>(l->size.load(std::memory_order_relaxed) - pos, 0, frames);
        const int64_t tail = l->onDisk() ? l->tail.load(std::memory_order_relaxed) : 0;
        for (int64_t i = 0; i < frames; ++i) {
            if (l->rampLeft > 0) {
                for (int s = 0; s < 2; ++s)
                    l->current[s] += l->step[s];
                if (--l->rampLeft == 0)
                    for (int s = 0; s < 2; ++s)
                        l->current[s] = l->aim[s];  // land exactly
            }
            if (i >= own || (l->current[0] == 0 && l->current[1] == 0)) continue;
            float left, right;
            if (l->onDisk()) {
                const auto k = static_cast<size_t>(2 * ((tail + i) & (kRing - 1)));
                left = l->ring[k];
                right = l->ring[k + 1];
            } else {
                left = l->left[pos + i];
                right = l->right[pos + i];
            }
            out[2 * i] += static_cast<float>(l->current[0] * left);
            out[2 * i + 1] += static_cast<float>(l->current[1] * right);
        }
        if (l->onDisk() && own > 0) l->tail.store(tail + own, std::memory_order_release);
    }
    pos_.store(pos + frames, std::memory_order_relaxed);
    return frames;
}

void Mixer::countIn(int beats, int64_t interval, double gain) {
    clickSound(true), clickSound(false);  // made here, not on the audio thread
    countBeats_.store(interval > 0 ? std::max(0, beats) : 0, std::memory_order_relaxed);
    countInterval_.store(std::max<int64_t>(interval, 1), std::memory_order_relaxed);
    countGain_.store(gain, std::memory_order_relaxed);
    countAsked_.store(beats > 0 && interval > 0, std::memory_order_relaxed);
    countSeq_.fetch_add(1, std::memory_order_release);
}

int64_t Mixer::renderCountIn(float* out, int64_t frames) {
    const int64_t n = std::min(frames, countLeft_.load(std::memory_order_relaxed));
    const auto length = int64_t(clickSound(false).size());
    for (int64_t i = 0; i < n; ++i, ++countDone_) {
        const int64_t beat = countDone_ / countStep_, t = countDone_ % countStep_;
        const float x = t < length ? float(countLevel_) * clickSound(beat == 0)[size_t(t)] : 0.0f;
        out[2 * i] = out[2 * i + 1] = x;
    }
    countLeft_.fetch_sub(n, std::memory_order_relaxed);
    return n;
}

int64_t Mixer::render(float* out, int64_t frames, int64_t* played) {
    if (const uint64_t n = countSeq_.load(std::memory_order_acquire); n != seenCount_) {
        seenCount_ = n;
        countStep_ = countInterval_.load(std::memory_order_relaxed);
        countLevel_ = countGain_.load(std::memory_order_relaxed);
        countDone_ = 0;
        countLeft_.store(countBeats_.load(std::memory_order_relaxed) * countStep_,
                         std::memory_order_relaxed);
        countAsked_.store(false, std::memory_order_relaxed);
    }
    // The count-in comes first; the song follows in the same buffer, so its first beat is exact.
    const int64_t counted =
        countLeft_.load(std::memory_order_relaxed) > 0 ? renderCountIn(out, frames) : 0;
    out += 2 * counted;
    frames -= counted;
    if (frames == 0) {
        if (played) *played = 0;
        return counted;
    }
    // Settings, loops and seeks made since the last call.
    bool replan = false;
    int64_t start = pos_.load(std::memory_order_relaxed);
    if (const uint64_t n = loopCount_.load(std::memory_order_acquire); n != seenLoops_) {
        seenLoops_ = n;
        const uint64_t v = loop_.load(std::memory_order_relaxed);
        loopStart_ = int64_t(v >> 32);
        loopEnd_ = int64_t(v & 0xffffffffULL);
        replan = true;  // the read-ahead followed the old loop
    }
    if (const uint64_t n = seekCount_.load(std::memory_order_acquire); n != seenSeeks_) {
        seenSeeks_ = n;
        start = seekTarget_.load(std::memory_order_relaxed);
        replan = true;
    }
    const bool first = planEpoch_.load(std::memory_order_relaxed) == 0;
    if (replan || first) adopt(start);
    seenSeeksShared_.store(seenSeeks_, std::memory_order_release);
    for (auto& l : lanes_)
        for (int s = 0; s < 2; ++s) {
            const double w = l->want[s].load(std::memory_order_relaxed);
            if (first) {  // a new mix starts at its settings, not ramping into them
                l->current[s] = l->aim[s] = w;
                l->rampLeft = 0;
            } else if (w != l->aim[s]) {
                l->aim[s] = w;
                l->step[s] = (w - l->current[s]) / ramp_;
                l->rampLeft = ramp_;
            }
        }

    const int64_t n = length_;
    const bool loop = loopEnd_ > loopStart_ && loopStart_ < n;
    const int64_t end = loop ? std::min(loopEnd_, n) : n;
    int64_t written = 0;
    bool dry = false;
    while (written < frames && !dry) {
        int64_t pos = pos_.load(std::memory_order_relaxed);
        if (loop && pos >= end) {
            pos = loopStart_;
            pos_.store(pos, std::memory_order_relaxed);
            wraps_.fetch_add(1, std::memory_order_relaxed);
        }
        const int64_t span = std::min(frames - written, end - pos);
        if (span <= 0) break;  // the end of the song
        written += renderSpan(out + 2 * written, span, &dry);
    }
    stalled_.store(dry, std::memory_order_relaxed);
    if (played) *played = written;
    if (!dry) return counted + written;
    std::fill(out + 2 * written, out + 2 * frames, 0.0f);  // waiting: silence, in time
    return counted + frames;
}

// ---- the reader thread -------------------------------------------------------------------------

void Mixer::readerLoop() {
    while (!quit_.load()) {
        Plan plan;
        for (;;) {  // a consistent plan
            const uint64_t s1 = planSeq_.load(std::memory_order_acquire);
            plan.epoch = planEpoch_.load(std::memory_order_relaxed);
            plan.start = planStart_.load(std::memory_order_relaxed);
            plan.loopStart = planLoopStart_.load(std::memory_order_relaxed);
            plan.loopEnd = planLoopEnd_.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (!(s1 & 1) && planSeq_.load(std::memory_order_relaxed) == s1) break;
            std::this_thread::yield();
        }
        bool busy = false;
        {
            std::lock_guard<std::mutex> lock(wakeMutex_);
            if (plan.epoch > 0)
                for (auto& l : lanes_)
                    if (l->onDisk()) {
                        const int64_t before = l->head.load(std::memory_order_relaxed);
                        fillLane(*l, plan);
                        busy = busy || l->head.load(std::memory_order_relaxed) != before;
                    }
        }
        if (!busy) {
            std::unique_lock<std::mutex> lock(wakeMutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(5));
        }
    }
}

void Mixer::fillLane(Lane& l, const Plan& plan) {
    if (l.ringEpoch.load(std::memory_order_relaxed) != plan.epoch) {
        // The audio thread plays another plan now and no longer reads this ring: start again.
        l.head.store(0, std::memory_order_relaxed);
        l.tail.store(0, std::memory_order_relaxed);
        l.next = plan.start;
        l.ringEpoch.store(plan.epoch, std::memory_order_release);
    }
    const int64_t size = l.size.load(std::memory_order_relaxed);
    const bool loop = plan.loopEnd > plan.loopStart && plan.loopStart < length_;
    const int64_t wrapAt = std::min(loop ? std::min(plan.loopEnd, length_) : length_, size);
    // Where the audio thread goes next: it wraps at the loop's end (or plays on past this lane's
    // end into the loop's start).
    if (loop && plan.loopStart < size && l.next >= wrapAt) l.next = plan.loopStart;
    const int64_t head = l.head.load(std::memory_order_relaxed);
    const int64_t space = kRing - (head - l.tail.load(std::memory_order_acquire));
    const int64_t ready = std::min(size, l.source->ready());
    const int64_t limit = std::min(
        {space, kChunk, (loop && l.next < wrapAt ? wrapAt : size) - l.next, ready - l.next});
    if (limit <= 0) return;
    int64_t got = 0;
    try {
        if (l.sourcePos != l.next) l.source->seek(l.next);
        l.sourcePos = l.next;
        got = l.source->read(l.scratch.data(), limit);
    } catch (const Error&) {
        got = 0;  // unreadable from here (a file changed or gone): the lane ends here
    }
    if (got <= 0) {
        if (l.next < ready) l.size.store(l.next, std::memory_order_release);
        return;
    }
    for (int64_t i = 0; i < got; ++i) {
        const auto k = static_cast<size_t>(2 * ((head + i) & (kRing - 1)));
        l.ring[k] = l.scratch[size_t(2 * i)];
        l.ring[k + 1] = l.scratch[size_t(2 * i + 1)];
    }
    l.next += got;
    l.sourcePos = l.next;
    l.head.store(head + got, std::memory_order_release);
}

}  // namespace msplit
