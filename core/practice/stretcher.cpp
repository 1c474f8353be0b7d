#include "core/practice/stretcher.h"

#include <rubberband/RubberBandStretcher.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <random>

#include "core/error.h"

namespace msplit {
namespace {

using RB = RubberBand::RubberBandStretcher;
constexpr int64_t kBlock = 4096;  // the most frames handed to Rubber Band at once

// Real time (settings change while it runs), both channels analysed together so the stereo
// image holds, and pitch changes that glide without a click.
RB::Options options(bool finer) {
    return RB::OptionProcessRealTime | RB::OptionChannelsTogether | RB::OptionPitchHighConsistency |
           (finer ? RB::OptionEngineFiner : RB::OptionEngineFaster);
}

double pitchScale(double semitones) {
    return std::pow(2.0, semitones / 12.0);
}

}  // namespace

bool finerEngineFastEnough() {
    static const bool fast = [] {
        // Two seconds of noise at a tempo and a pitch that make R3 work its hardest; playback
        // needs it well under real time, with room for the mixer and the UI.
        constexpr int kRate = 44100;
        RB rb(kRate, 2, options(true), 1.0 / 1.25, pitchScale(1));
        rb.setMaxProcessSize(kBlock);
        std::mt19937 rng(1);
        std::normal_distribution<float> noise(0.0f, 0.1f);
        std::vector<float> l(1024), r(1024);
        const float* in[2] = {l.data(), r.data()};
        float* out[2] = {l.data(), r.data()};
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t done = 0; done < 2 * kRate; done += 1024) {
            for (size_t i = 0; i < 1024; ++i)
                l[i] = r[i] = noise(rng);
            rb.process(in, 1024, false);
            while (rb.available() > 0)
                rb.retrieve(out, std::min<size_t>(1024, size_t(rb.available())));
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return seconds < 0.5;  // a quarter of one core
    }();
    return fast;
}

void Stretcher::check(double tempo, double semitones) {
    auto text = [](double v) {
        char s[32];
        std::snprintf(s, sizeof s, "%g", v);
        return std::string(s);
    };
    if (!(tempo >= kMinTempo && tempo <= kMaxTempo))
        throw Error(ErrorKind::InvalidInput, "tempo " + text(tempo),
                    "tempo must be from 0.25 to 2 (25 % to 200 %)");
    if (!(std::abs(semitones) <= kMaxSemitones))
        throw Error(ErrorKind::InvalidInput, "pitch " + text(semitones),
                    "pitch must be from -12 to +12 semitones");
}

Stretcher::Stretcher(int sampleRate, int channels)
    : rate_(sampleRate),
      channels_(channels),
      rb_(std::make_unique<RB>(size_t(sampleRate), size_t(channels),
                               options(finerEngineFastEnough()))),
      in_(size_t(channels * kBlock)),
      inPtr_(size_t(channels)),
      outPtr_(size_t(channels)) {
    rb_->setMaxProcessSize(kBlock);
}

Stretcher::~Stretcher() = default;

void Stretcher::setTempo(double tempo) {
    tempo_ = std::clamp(tempo, kMinTempo, kMaxTempo);
}

void Stretcher::setSemitones(double semitones) {
    semitones_ = std::clamp(semitones, -kMaxSemitones, kMaxSemitones);
}

std::string Stretcher::engineName() const {
    return rb_->getEngineVersion() == 3 ? "R3 (finer)" : "R2 (faster)";
}

int64_t Stretcher::latency() const {
    return int64_t(rb_->getStartDelay());
}

void Stretcher::applySettings() {
    const double tempo = tempo_.load(), semitones = semitones_.load();
    if (tempo == appliedTempo_ && semitones == appliedSemitones_) return;
    rb_->setTimeRatio(1.0 / tempo);
    rb_->setPitchScale(pitchScale(semitones));
    appliedTempo_ = tempo;
    appliedSemitones_ = semitones;
}

void Stretcher::start() {
    rb_->reset();
    applySettings();
    // Rubber Band's real-time mode leaves alignment to the caller: silence in, so the first
    // source frame is whole, and the delay out, so output frame 0 is source frame 0.
    int64_t pad = int64_t(rb_->getPreferredStartPad());
    toDrop_ = int64_t(rb_->getStartDelay());
    std::fill(in_.begin(), in_.end(), 0.0f);
    for (int c = 0; c < channels_; ++c)
        inPtr_[size_t(c)] = in_.data() + c * kBlock;
    while (pad > 0) {
        const int64_t n = std::min(pad, kBlock);
        rb_->process(inPtr_.data(), size_t(n), false);
        pad -= n;
    }
    fed_ = heard_ = 0;
    ended_ = flushed_ = false;
    pending_ = 0;
}

int64_t Stretcher::render(float* planar, int64_t frames, const Source& source) {
    if (resetAsked_.exchange(false)) start();
    applySettings();
    int64_t done = 0;
    while (done < frames) {
        if (ended_ && heard_ >= fed_ - 0.5) break;  // all of the source is out
        const int available = rb_->available();
        if (available < 0) break;
        if (available > 0) {
            if (toDrop_ > 0) {  // the start delay: computed, not heard
                const int64_t n = std::min<int64_t>(available, toDrop_);
                scratch_.resize(size_t(channels_ * n));
                for (int c = 0; c < channels_; ++c)
                    outPtr_[size_t(c)] = scratch_.data() + c * n;
                rb_->retrieve(outPtr_.data(), size_t(n));
                toDrop_ -= n;
                continue;
            }
            int64_t n = std::min<int64_t>(available, frames - done);
            if (ended_)  // not the silence fed after the end
                n = std::min(n, int64_t(std::ceil((fed_ - heard_) / appliedTempo_)));
            for (int c = 0; c < channels_; ++c)
                outPtr_[size_t(c)] = planar + c * frames + done;
            rb_->retrieve(outPtr_.data(), size_t(n));
            done += n;
            heard_ += double(n) * appliedTempo_;
            continue;
        }
        if (flushed_) break;
        if (ended_) {
            // The source's last frames are still inside the stretcher: push them out with
            // silence (as much as it delays), then tell it that this is the end.
            int64_t tail = int64_t(rb_->getPreferredStartPad()) +
                           int64_t(double(rb_->getStartDelay()) * appliedTempo_) + kBlock;
            std::fill(in_.begin(), in_.end(), 0.0f);
            for (int c = 0; c < channels_; ++c)
                inPtr_[size_t(c)] = in_.data() + c * kBlock;
            while (tail > 0) {
                const int64_t n = std::min(tail, kBlock);
                tail -= n;
                rb_->process(inPtr_.data(), size_t(n), tail == 0);
            }
            flushed_ = true;
            continue;
        }
        const int64_t want = std::clamp<int64_t>(int64_t(rb_->getSamplesRequired()), 256, kBlock);
        const int64_t got = source(in_.data(), want);
        for (int c = 0; c < channels_; ++c)
            inPtr_[size_t(c)] = in_.data() + c * want;
        ended_ = got < want;
        rb_->process(inPtr_.data(), size_t(got), false);
        fed_ += double(got);
    }
    pending_.store(int64_t(std::max(0.0, fed_ - heard_)), std::memory_order_relaxed);
    return done;
}

PlanarRead stretched(PlanarRead read, int sampleRate, int channels, double tempo, double semitones,
                     int64_t sourceFrames) {
    Stretcher::check(tempo, semitones);
    auto st = std::make_shared<Stretcher>(sampleRate, channels);
    st->setTempo(tempo);
    st->setSemitones(semitones);
    auto part = std::make_shared<std::vector<float>>();
    const int64_t limit =
        sourceFrames > 0 ? int64_t(std::llround(double(sourceFrames) / tempo)) : INT64_MAX;
    auto given = std::make_shared<int64_t>(0);
    return [=](float* planar, int64_t max) -> int64_t {
        max = std::min(max, limit - *given);
        if (max <= 0) return 0;
        // The stretcher wants `want` frames `want` apart; the reader gives n frames n apart.
        const Stretcher::Source source = [&](float* in, int64_t want) {
            int64_t got = 0;
            while (got < want) {
                part->resize(size_t(channels * (want - got)));
                const int64_t n = read(part->data(), want - got);
                if (n == 0) break;
                for (int c = 0; c < channels; ++c)
                    std::copy_n(part->data() + c * n, n, in + c * want + got);
                got += n;
            }
            return got;
        };
        const int64_t n = st->render(planar, max, source);
        for (int c = 1; c < channels && n < max; ++c)  // n frames n apart, as the caller reads
            std::copy_n(planar + c * max, n, planar + c * n);
        *given += n;
        return n;
    };
}

}  // namespace msplit
