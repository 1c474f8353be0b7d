// The mixer rendered offline (no audio device): exact sums, the mute/solo truth table, bounded
// ramps, exact seeks and loops, in memory and from disk (FLAC stems read as they play, a spool
// still being written: the playhead waits at its frontier); and the peak cache against brute
// force, saved and loaded.
#include <QTemporaryDir>
#include <QtTest>

#include <random>
#include <thread>

#include "core/audio/encoder.h"
#include "core/audio/peaks.h"
#include "core/player/click_lane.h"
#include "core/player/mixer.h"
#include "core/player/mixer_device.h"
#include "core/player/player.h"
#include "core/practice/stretcher.h"

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

// Renders until `frames` frames of the song have played, waiting while the reader thread catches
// up (a stall gives silence and holds the position); only played frames are kept.
std::vector<float> renderPlayed(Mixer& m, int64_t frames, int64_t chunk = 997) {
    std::vector<float> out, block(size_t(2 * chunk));
    QElapsedTimer clock;
    clock.start();
    while (int64_t(out.size()) < 2 * frames && clock.elapsed() < 20000) {
        int64_t played = 0;
        const int64_t n =
            m.render(block.data(), std::min(chunk, frames - int64_t(out.size()) / 2), &played);
        if (n == 0) break;  // the end
        out.insert(out.end(), block.begin(), block.begin() + 2 * played);
        if (played < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return out;
}

// A FLAC file of noise at 24 bits, and the samples a decoder gives back for it.
AudioBuffer writeFlac(const QString& path, int64_t frames, unsigned seed) {
    AudioBuffer a = noise(frames, seed);
    for (float& x : a.samples)
        x *= 0.5f;
    EncodeOptions o;
    o.format = FileFormat::Flac;
    o.depth = SampleFormat::Int24;
    encodeAudio(path.toStdString(), a, o);
    return decodeAudio(path.toStdString());
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
        QCOMPARE(m.loopWraps(), uint64_t(2));  // at 1100 after 50 frames and after 150
    }

    // The count-in: clicks a beat apart (the first accented), then the song from its position to
    // the sample, in the same buffers; the playhead does not move while it counts.
    void countInLeadsIntoTheSongOnTheBeat() {
        Mixer m;
        m.addLane(monoRamp(20000));
        m.seek(3000);
        m.countIn(4, 1000, 0.5);
        QVERIFY(m.countingIn());
        std::vector<float> out(2 * 6000);
        int64_t played = -1, done = 0;
        for (const int64_t block : {700, 1, 2999, 2300}) {  // across beats and into the song
            int64_t p = 0;
            QCOMPARE(m.render(out.data() + 2 * done, block, &p), block);
            done += block;
            played = p;
            if (done <= 4000) QCOMPARE(m.position(), int64_t(3000));
        }
        QCOMPARE(played, int64_t(2000));  // the last block: 300 clicks' frames, then the song
        QVERIFY(!m.countingIn());
        const auto& high = clickSound(true);
        const auto& low = clickSound(false);
        for (int beat = 0; beat < 4; ++beat) {
            const auto& click = beat == 0 ? high : low;
            for (size_t i = 0; i < 1000; ++i) {
                const float want = i < click.size() ? 0.5f * click[i] : 0.0f;
                QCOMPARE(out[2 * (beat * 1000 + i)], want);
                QCOMPARE(out[2 * (beat * 1000 + i) + 1], want);
            }
        }
        for (int i = 4000; i < 6000; ++i)
            QCOMPARE(out[size_t(2 * i)], float(3000 + i - 4000));
        QCOMPARE(m.position(), int64_t(5000));

        m.countIn(2, 100);  // cancelled before it plays: nothing of it is heard
        m.countIn(0, 1);
        QCOMPARE(m.render(out.data(), 10), int64_t(10));
        QCOMPARE(out[0], 5000.0f);
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

    void heardGainIsTheMixAsHeard() {
        Mixer m;
        for (unsigned seed : {4u, 5u, 6u})
            m.addLane(noise(300, seed));
        m.setGainDb(0, -6.0);
        m.setMute(1, true);
        m.setPan(2, 1.0);  // right: the left side silent
        const double g = std::pow(10.0, -6.0 / 20.0);
        QCOMPARE(m.heardGain(0), (std::array<double, 2>{g, g}));
        QCOMPARE(m.heardGain(1), (std::array<double, 2>{0, 0}));
        QCOMPARE(m.heardGain(2), (std::array<double, 2>{0, 1}));
    }

    // Stems on disk play exactly what a decoder reads from them, from the start, after a seek
    // anywhere and around a loop, with memory lanes alongside.
    void diskLanesPlayTheirFilesExactly() {
        QTemporaryDir dir;
        const int64_t n = 300000;
        const AudioBuffer a = writeFlac(dir.filePath("a.flac"), n, 11);
        const AudioBuffer b = writeFlac(dir.filePath("b.flac"), n - 5000, 12);
        const AudioBuffer c = noise(n, 13);
        Mixer m(44100, 1);
        m.addLane(fileLane(dir.filePath("a.flac").toStdString()));
        m.addLane(fileLane(dir.filePath("b.flac").toStdString(), 0.5));
        m.addLane(c);
        QCOMPARE(m.length(), n);
        QCOMPARE(m.frontier(), n);
        const auto expected = [&](int64_t i, int ch) {
            float x = a.channel(ch)[i] + c.channel(ch)[i];
            if (i < b.frames()) x += 0.5f * b.channel(ch)[i];
            return x;
        };
        std::vector<float> out = renderPlayed(m, 50000);
        QCOMPARE(out.size(), size_t(100000));
        for (int64_t i = 0; i < 50000; i += 7)
            QVERIFY(std::abs(out[size_t(2 * i + 1)] - expected(i, 1)) < 1e-6f);
        std::mt19937 rng(3);
        for (int t = 0; t < 6; ++t) {  // seeks land on the exact frame
            const int64_t at = std::uniform_int_distribution<int64_t>(0, n - 3000)(rng);
            m.seek(at);
            out = renderPlayed(m, 2000, 512);
            QCOMPARE(out.size(), size_t(4000));
            for (int64_t i = 0; i < 2000; ++i)
                QVERIFY2(std::abs(out[size_t(2 * i)] - expected(at + i, 0)) < 1e-6f,
                         qPrintable(QString("seek %1, frame %2").arg(at).arg(i)));
        }
        // A loop across the end of the shorter stem wraps without a gap.
        const int64_t loopStart = n - 9000, loopEnd = n - 1000;
        m.setLoop(loopStart, loopEnd);
        m.seek(loopEnd - 3000);
        out = renderPlayed(m, 20000, 1000);
        QCOMPARE(out.size(), size_t(40000));
        for (int64_t i = 0; i < 20000; i += 3) {
            const int64_t len = loopEnd - loopStart;
            const int64_t f = loopStart + (loopEnd - 3000 - loopStart + i) % len;
            QVERIFY2(std::abs(out[size_t(2 * i)] - expected(f, 0)) < 1e-6f,
                     qPrintable(QString("loop frame %1: %2 vs %3 (a %4 b %5 c %6)")
                                    .arg(i)
                                    .arg(out[size_t(2 * i)])
                                    .arg(expected(f, 0))
                                    .arg(a.channel(0)[f])
                                    .arg(f < b.frames() ? b.channel(0)[f] : 0)
                                    .arg(c.channel(0)[f])));
        }
        m.setLoop(0, 0);
        m.seek(n - 100);  // and the end stops playback
        out = renderPlayed(m, 1000);
        QCOMPARE(out.size(), size_t(200));
        std::vector<float> more(2 * 10);
        QCOMPARE(m.render(more.data(), 10), int64_t(0));
    }

    // A stem still being written: play stops at its frontier (silence, position held) and goes
    // on when more is there.
    void aGrowingSpoolHoldsThePlayheadAtTheFrontier() {
        QTemporaryDir dir;
        auto spool = std::make_shared<FloatSpool>(dir.path().toStdString(), 2);
        const AudioBuffer all = noise(40000, 21);
        const auto append = [&](int64_t from, int64_t count) {
            std::vector<float> planar;
            for (int c = 0; c < 2; ++c)
                planar.insert(planar.end(), all.channel(c) + from, all.channel(c) + from + count);
            spool->append(planar.data(), count);
        };
        append(0, 10000);
        Mixer m(44100, 1);
        m.addLane(spoolLane(spool, 40000));
        QCOMPARE(m.length(), int64_t(40000));
        QCOMPARE(m.frontier(), int64_t(10000));
        std::vector<float> out = renderPlayed(m, 10000);
        QCOMPARE(out.size(), size_t(20000));
        std::vector<float> block(2 * 500, 1.0f);
        int64_t played = -1;
        QCOMPARE(m.render(block.data(), 500, &played), int64_t(500));  // in time, silent
        QCOMPARE(played, int64_t(0));
        QVERIFY(m.stalled());
        QCOMPARE(m.position(), int64_t(10000));
        QVERIFY(std::all_of(block.begin(), block.end(), [](float x) { return x == 0.0f; }));
        append(10000, 30000);
        QCOMPARE(m.frontier(), int64_t(40000));
        out = renderPlayed(m, 30000);
        QCOMPARE(out.size(), size_t(60000));
        QVERIFY(!m.stalled());
        for (int64_t i = 0; i < 30000; i += 5)
            QCOMPARE(out[size_t(2 * i + 1)], all.channel(1)[10000 + i]);
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

    // Tempo and pitch through the device: the mix is stretched after the sum (a muted lane stays
    // silent, the other keeps its tone moved by the semitones), at the tempo's length, and the
    // playhead's account of the stretcher's delay keeps to song time.
    void stretchedMixKeepsPitchLengthAndMutes() {
        AudioBuffer low, high;
        low.channels = high.channels = 1;
        for (int i = 0; i < 2 * 44100; ++i) {
            low.samples.push_back(float(0.3 * std::sin(2 * M_PI * 300.0 * i / 44100)));
            high.samples.push_back(float(0.3 * std::sin(2 * M_PI * 2000.0 * i / 44100)));
        }
        Mixer m;
        m.addLane(low);
        m.addLane(high);
        m.setMute(1, true);
        Stretcher st(44100, 2);
        st.setTempo(0.5);
        st.setSemitones(12);
        QAudioFormat fmt;
        fmt.setSampleRate(44100);
        fmt.setChannelCount(2);
        fmt.setSampleFormat(QAudioFormat::Float);
        MixerDevice device(m, fmt, &st);
        QByteArray all;
        int64_t worstLag = 0;
        for (int i = 0; i < 1000; ++i) {
            const QByteArray chunk = device.read(8 * 1024);
            if (chunk.isEmpty()) break;
            all += chunk;
            QVERIFY(device.stretching());
            // What has been heard so far, in song frames, against where the playhead says it is.
            const int64_t heard = all.size() / 8 / 2;
            if (m.position() < m.length())
                worstLag = std::max(worstLag, std::abs(heardPosition(m.position(), 0, 44100, 44100,
                                                                     0, 0, 0.5, st.pending()) -
                                                       heard));
        }
        const auto* x = reinterpret_cast<const float*>(all.constData());
        const qint64 frames = all.size() / 8;
        QVERIFY2(std::abs(frames - 4 * 44100) <= 441, qPrintable(QString::number(frames)));
        int crossings = 0;  // over 2 s in the middle: 600 Hz, nothing of the muted 2 kHz
        for (qint64 i = 44100 + 1; i < 3 * 44100; ++i)
            crossings += x[2 * (i - 1)] < 0 && x[2 * i] >= 0;
        QVERIFY2(std::abs(crossings - 1200) <= 12, qPrintable(QString::number(crossings)));
        QVERIFY2(worstLag < 441, qPrintable(QString::number(worstLag)));  // 10 ms of song
    }

    // Peaks of a stereo lane are those of its channels' mean, exact over the blocks that cover
    // any range, usable front to back while they are made, and the same after a save and load.
    void peaksMatchBruteForce() {
        constexpr int64_t n = 3'000'000;
        AudioBuffer audio = noise(n, 7);
        std::vector<float> mean(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            mean[size_t(i)] = (audio.channel(0)[i] + audio.channel(1)[i]) / 2.0f;
        std::mt19937 rng(7);
        auto check = [&](const PeakCache& cache, int64_t limit, int tries) {
            std::uniform_int_distribution<int64_t> pos(0, n);
            for (int t = 0; t < tries; ++t) {
                int64_t a = pos(rng), b = pos(rng);
                if (a > b) std::swap(a, b);
                const int64_t k = PeakCache::kBase;
                const int64_t from = a / k * k, end = std::min((b + k - 1) / k * k, limit);
                if (std::min(b, limit) <= a) {
                    QCOMPARE(cache.range(a, b), std::make_pair(0.0f, 0.0f));  // not made yet
                    continue;
                }
                const auto [lo, hi] = cache.range(a, b);
                const auto [elo, ehi] =
                    std::minmax_element(mean.begin() + from, mean.begin() + end);
                QCOMPARE(lo, *elo);
                QCOMPARE(hi, *ehi);
            }
        };
        PeakCache cache(n + 1000);  // the expected length, a little long
        QCOMPARE(cache.builtFrames(), int64_t(0));
        for (int64_t done = 0; done < n;) {
            const int64_t count = std::min<int64_t>(n - done, 777777);
            std::vector<float> planar(audio.channel(0) + done, audio.channel(0) + done + count);
            planar.insert(planar.end(), audio.channel(1) + done, audio.channel(1) + done + count);
            cache.append(planar.data(), 2, count);
            done += count;
            QCOMPARE(cache.builtFrames(), done / PeakCache::kBase * PeakCache::kBase);
            check(cache, cache.builtFrames(), 20);  // the part made is exact already
        }
        QVERIFY(!cache.finished());
        QCOMPARE(cache.frames(), n + 1000);
        cache.finish();
        QVERIFY(cache.finished());
        QCOMPARE(cache.frames(), n);
        check(cache, n, 300);

        QTemporaryDir dir;
        const std::string path = dir.filePath("lane.peaks").toStdString();
        cache.save(path);
        PeakCache loaded;
        QVERIFY(loaded.load(path));
        QCOMPARE(loaded.frames(), n);
        QVERIFY(loaded.finished());
        check(loaded, n, 300);
        // Damaged or foreign files are refused (and then rebuilt from the audio).
        QFile file(QString::fromStdString(path));
        QVERIFY(file.open(QIODevice::ReadWrite));
        file.resize(file.size() - 4);
        file.close();
        PeakCache refused;
        QVERIFY(!refused.load(path));
        QVERIFY(!refused.load(dir.filePath("missing").toStdString()));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray("MSPEAKS1") + QByteArray(8, '\xff') + QByteArray(64, 0));
        file.close();
        QVERIFY(!refused.load(path));
        QVERIFY(!refused.finished());
    }
};

QTEST_GUILESS_MAIN(TestMixer)
#include "test_mixer.moc"
