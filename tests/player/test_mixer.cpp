// The mixer rendered offline (no audio device): exact sums, the mute/solo truth table, bounded
// ramps, exact seeks and loops; and the peak cache against brute force.
#include <QtTest>

#include <random>

#include "core/player/mixer.h"
#include "core/player/mixer_device.h"
#include "core/player/peaks.h"

using namespace msplit;

namespace {

AudioBuffer constant(float left, float right, int64_t frames) {
    AudioBuffer b;
    b.channels = 2;
    b.samples.assign(static_cast<size_t>(frames), left);
    b.samples.insert(b.samples.end(), static_cast<size_t>(frames), right);
    return b;
}

// A mono lane whose sample i is i: where a frame came from shows in its value.
AudioBuffer monoRamp(int frames) {
    AudioBuffer b;
    b.channels = 1;
    for (int i = 0; i < frames; ++i)
        b.samples.push_back(float(i));
    return b;
}

AudioBuffer noise(int64_t frames, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1, 1);
    AudioBuffer b;
    b.channels = 2;
    b.samples.resize(static_cast<size_t>(2 * frames));
    for (float& x : b.samples)
        x = d(rng);
    return b;
}

std::vector<float> renderAll(Mixer& m, int64_t frames, int64_t chunk = 997) {
    std::vector<float> out(static_cast<size_t>(2 * frames));
    int64_t done = 0;
    while (done < frames) {
        const int64_t n = m.render(out.data() + 2 * done, std::min(chunk, frames - done));
        if (n == 0) break;
        done += n;
    }
    out.resize(static_cast<size_t>(2 * done));
    return out;
}

}  // namespace

class TestMixer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sumIsExact() {
        Mixer m;
        const AudioBuffer a = noise(10000, 1), b = noise(12000, 2), c = noise(12000, 3);
        for (const auto* x : {&a, &b, &c})
            m.addLane(*x);
        QCOMPARE(m.length(), int64_t(12000));
        const std::vector<float> out = renderAll(m, 20000);
        QCOMPARE(out.size(), size_t(24000));  // stops at the end of the longest lane
        for (int64_t i = 0; i < 12000; ++i)
            for (int ch = 0; ch < 2; ++ch) {
                float expected = 0.0f;
                for (const auto* x : {&a, &b, &c})
                    if (i < x->frames()) expected += x->channel(ch)[i];
                QCOMPARE(out[size_t(2 * i + ch)], expected);
            }
    }

    void muteSoloTruthTable() {
        for (int states = 0; states < 64; ++states) {
            Mixer m(44100, 10);
            const float values[3] = {1, 2, 4};
            for (float v : values)
                m.addLane(constant(v, v, 200));
            bool mute[3], solo[3], anySolo = false;
            for (int i = 0; i < 3; ++i) {
                mute[i] = states & (1 << i);
                solo[i] = states & (8 << i);
                anySolo = anySolo || solo[i];
                m.setMute(i, mute[i]);
                m.setSolo(i, solo[i]);
            }
            float expected = 0;
            for (int i = 0; i < 3; ++i) {
                const bool heard = !mute[i] && (!anySolo || solo[i]);
                QCOMPARE(m.audible(i), heard);
                if (heard) expected += values[i];
            }
            const std::vector<float> out = renderAll(m, 200);
            QCOMPARE(out[2 * 150], expected);  // after the ramp
            QCOMPARE(out[2 * 150 + 1], expected);
        }
    }

    void rampsAreBounded() {
        const int ramp = 441;
        Mixer m(44100, ramp);
        m.addLane(constant(1, 1, 5000));
        std::vector<float> out(2 * 100);
        m.render(out.data(), 100);
        QCOMPARE(out[198], 1.0f);
        m.setMute(0, true);
        out = renderAll(m, 1000, 64);
        float previous = 1.0f;
        for (int i = 0; i < 1000; ++i) {
            const float step = previous - out[size_t(2 * i)];
            QVERIFY2(step >= -1e-6f && step <= 1.0f / ramp + 1e-6f,
                     qPrintable(QString("frame %1: %2").arg(i).arg(step)));
            previous = out[size_t(2 * i)];
        }
        QCOMPARE(out[2 * (ramp - 1)], 0.0f);  // silent exactly when the ramp ends
        QCOMPARE(out[2 * 999], 0.0f);
        m.setGainDb(0, 6.0);
        m.setMute(0, false);
        out = renderAll(m, 1000);
        QVERIFY(std::abs(out[2 * 999] - std::pow(10.0f, 6.0f / 20.0f)) < 1e-6f);
    }

    void seekIsExact() {
        Mixer m;
        m.addLane(monoRamp(50000));
        m.seek(12345);
        QCOMPARE(m.position(), int64_t(12345));
        std::vector<float> out(2 * 10);
        QCOMPARE(m.render(out.data(), 10), int64_t(10));
        QCOMPARE(out[0], 12345.0f);
        QCOMPARE(out[1], 12345.0f);  // mono plays on both sides
        QCOMPARE(out[18], 12354.0f);
        QCOMPARE(m.position(), int64_t(12355));
        m.seek(999999);
        QCOMPARE(m.position(), int64_t(50000));
        QCOMPARE(m.render(out.data(), 10), int64_t(0));  // the end stops playback
    }

    void loopWrapsWithoutAGap() {
        Mixer m;
        m.addLane(monoRamp(5000));
        m.setLoop(1000, 1100);
        m.seek(1050);
        const std::vector<float> out = renderAll(m, 250, 37);
        QCOMPARE(out.size(), size_t(500));
        for (int i = 0; i < 250; ++i) {
            const int expected = 1000 + (50 + i) % 100;
            QCOMPARE(out[size_t(2 * i)], float(expected));
        }
    }

    void panMovesTheLane() {
        Mixer m(44100, 1);
        m.addLane(constant(1, 1, 100));
        m.setPan(0, -1);
        const std::vector<float> left = renderAll(m, 50);
        QCOMPARE(left[2 * 49], 1.0f);
        QCOMPARE(left[2 * 49 + 1], 0.0f);
        m.setPan(0, 0.5);
        const std::vector<float> half = renderAll(m, 50);
        QCOMPARE(half[2 * 49], 0.5f);
        QCOMPARE(half[2 * 49 + 1], 1.0f);
    }

    void mixdownIsTheMixAsHeard() {
        Mixer m;
        const AudioBuffer a = noise(3000, 4), b = noise(2000, 5), c = noise(3000, 6);
        for (const auto* x : {&a, &b, &c})
            m.addLane(*x);
        m.setGainDb(0, -6.0);
        m.setMute(1, true);
        m.setPan(2, 1.0);  // right: the left side silent
        m.seek(1234);
        const AudioBuffer mix = m.mixdown();
        QCOMPARE(m.position(), int64_t(1234));
        QCOMPARE(mix.frames(), int64_t(3000));
        const float g = float(std::pow(10.0, -6.0 / 20.0));
        for (int64_t i = 0; i < 3000; i += 7) {
            QVERIFY(std::abs(mix.channel(0)[i] - g * a.channel(0)[i]) < 1e-6f);
            QVERIFY(std::abs(mix.channel(1)[i] - (g * a.channel(1)[i] + c.channel(1)[i])) < 1e-6f);
        }
    }

    // A device at 48 kHz: the song keeps its length and its pitch.
    void rateConversionKeepsLength() {
        AudioBuffer tone;
        tone.channels = 1;
        for (int i = 0; i < 44100; ++i)
            tone.samples.push_back(float(0.5 * std::sin(2 * M_PI * 1000.0 * i / 44100)));
        Mixer m;
        m.addLane(tone);
        QAudioFormat fmt;
        fmt.setSampleRate(48000);
        fmt.setChannelCount(2);
        fmt.setSampleFormat(QAudioFormat::Float);
        MixerDevice device(m, fmt);
        QByteArray all;
        for (int i = 0; i < 1000; ++i) {
            const QByteArray chunk = device.read(8 * 1024);
            if (chunk.isEmpty()) break;
            all += chunk;
        }
        const auto* x = reinterpret_cast<const float*>(all.constData());
        const qint64 frames = all.size() / 8;
        QVERIFY2(std::abs(frames - 48000) <= 64, qPrintable(QString::number(frames)));
        int crossings = 0;
        for (qint64 i = 1; i < frames; ++i)
            crossings += x[2 * (i - 1)] < 0 && x[2 * i] >= 0;
        QVERIFY2(std::abs(crossings - 1000) <= 2, qPrintable(QString::number(crossings)));
    }

    // Peaks of a stereo lane are those of its channels' mean, exact at every range, and usable
    // front to back while they are built.
    void peaksMatchBruteForce() {
        constexpr int64_t n = 3'000'000;  // several published chunks
        auto audio = std::make_shared<AudioBuffer>();
        std::mt19937 rng(7);
        std::normal_distribution<float> d;
        for (int64_t i = 0; i < 2 * n; ++i)
            audio->samples.push_back(d(rng));
        std::vector<float> mean(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            mean[size_t(i)] = 0.5f * (audio->channel(0)[i] + audio->channel(1)[i]);
        auto check = [&](const PeakCache& cache, int64_t limit, int tries) {
            std::uniform_int_distribution<int64_t> pos(0, n);
            for (int t = 0; t < tries; ++t) {
                int64_t a = pos(rng), b = pos(rng);
                if (a > b) std::swap(a, b);
                const int64_t end = std::min(b, limit);
                if (end <= a) {
                    QCOMPARE(cache.range(a, b), std::make_pair(0.0f, 0.0f));  // not built yet
                    continue;
                }
                const auto [lo, hi] = cache.range(a, b);
                const auto [elo, ehi] = std::minmax_element(mean.begin() + a, mean.begin() + end);
                QCOMPARE(lo, *elo);
                QCOMPARE(hi, *ehi);
            }
        };
        PeakCache cache;
        cache.setSource(audio);
        QCOMPARE(cache.builtFrames(), int64_t(0));
        std::vector<int64_t> seen;
        cache.build([&](double) {
            if (cache.ready()) return true;
            seen.push_back(cache.builtFrames());
            check(cache, cache.builtFrames(), 20);  // the built part is exact already
            return true;
        });
        QVERIFY(cache.ready());
        QVERIFY(seen.size() >= 2);
        QVERIFY(std::is_sorted(seen.begin(), seen.end()) && seen.front() > 0 && seen.back() < n);
        check(cache, n, 300);

        PeakCache stopped;  // a build told to stop leaves what it published, no more
        stopped.build(audio, [](double) { return false; });
        QVERIFY(!stopped.ready());
        QCOMPARE(stopped.builtFrames(), PeakCache::kChunkBlocks * PeakCache::kBase);
    }
};

QTEST_GUILESS_MAIN(TestMixer)
#include "test_mixer.moc"
