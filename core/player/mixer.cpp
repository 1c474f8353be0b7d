#include "core/player/mixer.h"

#include <algorithm>
#include <cmath>

namespace msplit {

Mixer::Mixer(int sampleRate, int rampFrames) : rate_(sampleRate), ramp_(std::max(1, rampFrames)) {}

int Mixer::addLane(std::shared_ptr<const AudioBuffer> audio) {
    std::lock_guard<std::mutex> lock(mutex_);
    Lane l;
    l.size = audio->frames();
    l.left = audio->channel(0);
    l.right = audio->channels > 1 ? audio->channel(1) : audio->channel(0);
    l.audio = std::move(audio);
    lanes_.push_back(std::move(l));
    for (auto& lane : lanes_) {  // a new mix starts at its settings, not ramping into them
        for (int s = 0; s < 2; ++s) {
            lane.current[s] = target(lane, s);
            lane.step[s] = 0;
        }
        lane.rampLeft = 0;
    }
    return static_cast<int>(lanes_.size()) - 1;
}

int64_t Mixer::length() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return longestLane();
}

int64_t Mixer::longestLane() const {
    int64_t n = 0;
    for (const auto& l : lanes_)
        n = std::max<int64_t>(n, l.size);
    return n;
}

bool Mixer::heard(const Lane& l) const {
    bool anySolo = false;
    for (const auto& o : lanes_)
        anySolo = anySolo || o.solo;
    return !(l.mute || (anySolo && !l.solo));
}

double Mixer::target(const Lane& l, int side) const {
    if (!heard(l)) return 0;
    const double balance = side == 0 ? std::min(1.0, 1.0 - l.pan) : std::min(1.0, 1.0 + l.pan);
    return l.gain * balance;
}

void Mixer::retarget() {
    for (auto& l : lanes_) {
        for (int s = 0; s < 2; ++s)
            l.step[s] = (target(l, s) - l.current[s]) / ramp_;
        l.rampLeft = ramp_;
    }
}

AudioBuffer Mixer::mixdown() const {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t n = longestLane();
    AudioBuffer out;
    out.sampleRate = rate_;
    out.channels = 2;
    out.samples.assign(static_cast<size_t>(2 * n), 0.0f);
    for (const auto& l : lanes_) {
        const double g[2] = {target(l, 0), target(l, 1)};
        const float* side[2] = {l.left, l.right};
        for (int s = 0; s < 2; ++s) {
            if (g[s] == 0) continue;
            float* dst = out.channel(s);
            for (int64_t i = 0; i < l.size; ++i)
                dst[i] += static_cast<float>(g[s] * side[s][i]);
        }
    }
    return out;
}

std::shared_ptr<const AudioBuffer> Mixer::laneAudio(int lane) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lanes_.at(static_cast<size_t>(lane)).audio;
}

void Mixer::setGainDb(int lane, double db) {
    std::lock_guard<std::mutex> lock(mutex_);
    lanes_.at(static_cast<size_t>(lane)).gain = std::pow(10.0, db / 20.0);
    retarget();
}
void Mixer::setMute(int lane, bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    lanes_.at(static_cast<size_t>(lane)).mute = on;
    retarget();
}
void Mixer::setSolo(int lane, bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    lanes_.at(static_cast<size_t>(lane)).solo = on;
    retarget();
}
void Mixer::setPan(int lane, double pan) {
    std::lock_guard<std::mutex> lock(mutex_);
    lanes_.at(static_cast<size_t>(lane)).pan = std::clamp(pan, -1.0, 1.0);
    retarget();
}
bool Mixer::muted(int lane) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lanes_.at(static_cast<size_t>(lane)).mute;
}
bool Mixer::soloed(int lane) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lanes_.at(static_cast<size_t>(lane)).solo;
}
bool Mixer::audible(int lane) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return heard(lanes_.at(static_cast<size_t>(lane)));
}

void Mixer::seek(int64_t frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t n = longestLane();
    pos_ = std::clamp<int64_t>(frame, 0, n);
}

int64_t Mixer::position() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pos_;
}

void Mixer::setLoop(int64_t start, int64_t end) {
    std::lock_guard<std::mutex> lock(mutex_);
    loopStart_ = std::max<int64_t>(0, start);
    loopEnd_ = end;
}

bool Mixer::looping() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return loopEnd_ > loopStart_;
}

int64_t Mixer::renderSpan(float* out, int64_t frames) {
    std::fill(out, out + 2 * frames, 0.0f);
    for (auto& l : lanes_) {
        const int64_t size = l.size;
        for (int64_t i = 0; i < frames; ++i) {
            if (l.rampLeft > 0) {
                for (int s = 0; s < 2; ++s)
                    l.current[s] += l.step[s];
                if (--l.rampLeft == 0)
                    for (int s = 0; s < 2; ++s)
                        l.current[s] = target(l, s);  // land exactly
            }
            const int64_t p = pos_ + i;
            if (p >= size || (l.current[0] == 0 && l.current[1] == 0)) continue;
            out[2 * i] += static_cast<float>(l.current[0] * l.left[p]);
            out[2 * i + 1] += static_cast<float>(l.current[1] * l.right[p]);
        }
    }
    pos_ += frames;
    return frames;
}

int64_t Mixer::render(float* out, int64_t frames) {
    std::lock_guard<std::mutex> lock(mutex_);
    const int64_t n = longestLane();
    const bool loop = loopEnd_ > loopStart_ && loopStart_ < n;
    const int64_t end = loop ? std::min(loopEnd_, n) : n;
    int64_t written = 0;
    while (written < frames) {
        if (loop && pos_ >= end) pos_ = loopStart_;
        const int64_t span = std::min(frames - written, end - pos_);
        if (span <= 0) break;  // the end of the song
        written += renderSpan(out + 2 * written, span);
    }
    return written;
}

}  // namespace msplit
