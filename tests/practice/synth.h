#pragma once
// Synthetic music with known answers, for the practice tools' tests: tones, click tracks at a
// known tempo, and songs of chords in a known key (harmonic tones struck on every beat, a bass
// line on the roots, a melody on chord tones).
#include <cmath>
#include <random>
#include <vector>

#include "core/audio/audio_buffer.h"
#include "core/practice/harmony.h"

namespace synth {

constexpr int kRate = 44100;
constexpr double kPi = 3.14159265358979323846;

inline msplit::AudioBuffer silence(double seconds) {
    msplit::AudioBuffer b;
    b.channels = 2;
    b.sampleRate = kRate;
    b.samples.assign(size_t(2 * std::llround(seconds * kRate)), 0.0f);
    return b;
}

inline msplit::AudioBuffer tone(double hz, double seconds, float amp = 0.3f) {
    msplit::AudioBuffer b = silence(seconds);
    const int64_t n = b.frames();
    for (int64_t i = 0; i < n; ++i)
        b.samples[size_t(i)] = b.samples[size_t(n + i)] =
            amp * float(std::sin(2 * kPi * hz * double(i) / kRate));
    return b;
}

// A 15 ms decaying 1 kHz burst at `at` seconds, added to both channels.
inline void addClick(msplit::AudioBuffer& b, double at, float amp = 0.8f) {
    const int64_t n = b.frames(), start = std::llround(at * kRate);
    for (int64_t i = 0; i < int64_t(0.015 * kRate) && start + i < n; ++i) {
        const float x = amp * float(std::exp(-double(i) / (0.003 * kRate)) *
                                    std::sin(2 * kPi * 1000 * double(i) / kRate));
        b.samples[size_t(start + i)] += x;
        b.samples[size_t(n + start + i)] += x;
    }
}

inline msplit::AudioBuffer clickTrack(double bpm, double seconds, double first,
                                      std::vector<double>* times) {
    msplit::AudioBuffer b = silence(seconds);
    for (double t = first; t < seconds - 0.1; t += 60.0 / bpm) {
        addClick(b, t);
        times->push_back(t);
    }
    return b;
}

// A struck harmonic tone: six partials at 1/h, a 5 ms attack, decaying over ~1.5 s.
inline void addNote(msplit::AudioBuffer& b, int midi, double at, double length, float amp) {
    const double hz = 440.0 * std::pow(2.0, (midi - 69) / 12.0);
    const int64_t n = b.frames(), start = std::llround(at * kRate);
    const int64_t len = std::min<int64_t>(std::llround(length * kRate), n - start);
    for (int64_t i = 0; i < len; ++i) {
        const double t = double(i) / kRate;
        const double env = std::min(1.0, t / 0.005) * std::exp(-t / 1.5) *
                           std::min(1.0, double(len - i) / (0.01 * kRate));
        double x = 0;
        for (int h = 1; h <= 6; ++h)
            x += std::sin(2 * kPi * h * hz * t) / h;
        const float v = amp * float(env * x);
        b.samples[size_t(start + i)] += v;
        b.samples[size_t(n + start + i)] += v;
    }
}

struct Song {
    msplit::AudioBuffer audio;
    std::vector<msplit::ChordSpan> chords;  // the truth
    msplit::Key key;
};

// `degrees`: the chords as (semitones above the tonic, quality), each `beats` beats long, the
// progression played `times` times.
inline Song song(int tonic, bool minor, double bpm,
                 const std::vector<std::pair<int, msplit::ChordQuality>>& degrees, int beats = 4,
                 int times = 3, unsigned seed = 1) {
    using Q = msplit::ChordQuality;
    std::mt19937 rng(seed);
    const double beat = 60.0 / bpm;
    const double length = double(degrees.size() * size_t(beats * times)) * beat + 1.0;
    Song s{silence(length), {}, {tonic, minor, 1.0}};
    double at = 0;
    for (int r = 0; r < times; ++r)
        for (const auto& [degree, quality] : degrees) {
            const msplit::Chord chord{(tonic + degree) % 12, quality};
            s.chords.push_back({at, at + beats * beat, chord});
            std::vector<int> notes{0, quality == Q::Minor || quality == Q::Minor7 ? 3 : 4, 7};
            if (quality == Q::Dominant7 || quality == Q::Minor7) notes.push_back(10);
            if (quality == Q::Major7) notes.push_back(11);
            // Close voicing from G3 up; the bass two octaves below middle C.
            std::vector<int> voiced;
            for (int i : notes) {
                int m = 48 + (chord.root + i) % 12;
                while (m < 55)
                    m += 12;
                voiced.push_back(m);
            }
            addNote(s.audio, 36 + chord.root, at, beats * beat, 0.25f);
            for (int b = 0; b < beats; ++b) {
                for (int m : voiced)
                    addNote(s.audio, m, at + b * beat, beat, 0.12f);
                const int top = voiced[size_t(rng() % voiced.size())] + 12;
                addNote(s.audio, top, at + b * beat, beat, 0.1f);
            }
            at += beats * beat;
        }
    return s;
}

}  // namespace synth
