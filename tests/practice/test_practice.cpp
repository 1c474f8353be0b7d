// The practice tools on generated signals with known answers: Rubber Band's tempo and pitch (a
// tone's frequency, where a click lands, the length), aubio's beat grid on click tracks, and the
// key and chord finder on synthetic songs (its accuracy is logged for the README).
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/practice/beats.h"
#include "core/practice/harmony.h"
#include "core/practice/stretcher.h"
#include "tests/practice/synth.h"

using namespace msplit;

namespace {

// `in` through a stretcher, whole; `cut`: at the input's length over the tempo, as files are.
AudioBuffer stretch(const AudioBuffer& in, double tempo, double semitones, bool cut = true) {
    int64_t pos = 0;
    const int64_t frames = in.frames();
    PlanarRead read = [&](float* planar, int64_t max) {
        const int64_t n = std::min(max, frames - pos);
        for (int c = 0; c < 2; ++c)
            std::copy_n(in.channel(c) + pos, n, planar + c * n);
        pos += n;
        return n;
    };
    PlanarRead out = stretched(read, in.sampleRate, 2, tempo, semitones, cut ? frames : 0);
    std::vector<float> block(2 * 4096), left, right;
    while (const int64_t n = out(block.data(), 4096)) {
        left.insert(left.end(), block.begin(), block.begin() + n);
        right.insert(right.end(), block.begin() + n, block.begin() + 2 * n);
    }
    AudioBuffer b;
    b.channels = 2;
    b.sampleRate = in.sampleRate;
    b.samples = left;
    b.samples.insert(b.samples.end(), right.begin(), right.end());
    return b;
}

// A steady tone's frequency from its rising zero crossings (interpolated) in [from, to).
double frequencyOf(const AudioBuffer& b, double from, double to) {
    const float* x = b.channel(0);
    const int64_t a = std::llround(from * b.sampleRate), e = std::llround(to * b.sampleRate);
    double first = -1, last = -1;
    int crossings = 0;
    for (int64_t i = a + 1; i < e; ++i)
        if (x[i - 1] < 0 && x[i] >= 0) {
            const double t = double(i - 1) + x[i - 1] / (x[i - 1] - x[i]);
            if (first < 0) first = t;
            last = t;
            ++crossings;
        }
    return crossings > 1 ? (crossings - 1) * b.sampleRate / (last - first) : 0;
}

// Where the loudest sample is, in seconds.
double peakAt(const AudioBuffer& b) {
    const float* x = b.channel(0);
    int64_t best = 0;
    for (int64_t i = 0; i < b.frames(); ++i)
        if (std::abs(x[i]) > std::abs(x[best])) best = i;
    return double(best) / b.sampleRate;
}

double rms(const AudioBuffer& b, double from, double to) {
    const float* x = b.channel(0);
    double s = 0;
    int64_t n = 0;
    for (int64_t i = std::llround(from * b.sampleRate); i < std::llround(to * b.sampleRate); ++i)
        s += double(x[i]) * x[i], ++n;
    return n ? std::sqrt(s / double(n)) : 0;
}

}  // namespace

class TestPractice : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        Stretcher st(44100, 2);
        qInfo("Rubber Band engine: %s (R3 fast enough here: %s), delay %.0f ms",
              st.engineName().c_str(), finerEngineFastEnough() ? "yes" : "no",
              1000.0 * double(st.latency()) / 44100);
    }

    void pitchKeepsTempo_data() {
        QTest::addColumn<double>("semitones");
        for (double s : {7.0, -5.0, 12.0, -12.0, 0.5})
            QTest::newRow(qPrintable(QString::number(s))) << s;
    }
    void pitchKeepsTempo() {
        QFETCH(double, semitones);
        const AudioBuffer in = synth::tone(440, 6);
        const AudioBuffer out = stretch(in, 1.0, semitones, false);
        const double want = 440 * std::pow(2.0, semitones / 12);
        const double got = frequencyOf(out, 2, 4);
        qInfo("%+.1f semitones: %.2f Hz (want %.2f)", semitones, got, want);
        QVERIFY2(std::abs(got - want) < 0.01 * want, qPrintable(QString::number(got)));
        // Same length (within 1 %), and sound up to the end, not a tail of silence.
        QVERIFY2(std::abs(out.frames() - in.frames()) < 0.01 * double(in.frames()),
                 qPrintable(QString::number(out.frames())));
        QVERIFY(rms(out, 5.5, 5.9) > 0.1);
    }

    void tempoKeepsPitch_data() {
        QTest::addColumn<double>("tempo");
        for (double t : {0.25, 0.5, 0.8, 1.25, 2.0})
            QTest::newRow(qPrintable(QString::number(t))) << t;
    }
    void tempoKeepsPitch() {
        QFETCH(double, tempo);
        AudioBuffer in = synth::tone(440, 8, 0.1f);
        synth::addClick(in, 3.0, 0.9f);
        const AudioBuffer out = stretch(in, tempo, 0, false);
        const double length = double(out.frames()) / 44100, want = 8 / tempo;
        qInfo("tempo %.2f: %.3f s long (want %.3f), click at %.3f s (want %.3f)", tempo, length,
              want, peakAt(out), 3 / tempo);
        QVERIFY2(std::abs(length - want) < 0.01 * want, qPrintable(QString::number(length)));
        QVERIFY2(std::abs(peakAt(out) - 3 / tempo) < 0.01 * 3 / tempo,
                 qPrintable(QString::number(peakAt(out))));
        // The pitch away from the click is the tone's.
        const double hz = frequencyOf(out, 5.0 / tempo, 7.0 / tempo);
        QVERIFY2(std::abs(hz - 440) < 4.4, qPrintable(QString::number(hz)));
        // Cut for a file: exactly the length over the tempo.
        QCOMPARE(stretch(in, tempo, 0, true).frames(), std::llround(in.frames() / tempo));
    }

    void outOfRangeIsRefused() {
        for (auto [tempo, semitones] : std::vector<std::pair<double, double>>{
                 {0.2, 0}, {2.5, 0}, {1, 12.5}, {1, -13}, {std::nan(""), 0}, {1, std::nan("")}}) {
            try {
                Stretcher::check(tempo, semitones);
                QFAIL("accepted");
            } catch (const Error& e) {
                QCOMPARE(e.kind(), ErrorKind::InvalidInput);
            }
        }
        Stretcher::check(0.25, -12);
        Stretcher::check(2.0, 12);
    }

    void beatsOfAClickTrack_data() {
        QTest::addColumn<double>("bpm");
        for (double b : {120.0, 97.0, 143.5, 72.0})
            QTest::newRow(qPrintable(QString::number(b))) << b;
    }
    void beatsOfAClickTrack() {
        QFETCH(double, bpm);
        std::vector<double> truth;
        const AudioBuffer clicks = synth::clickTrack(bpm, 40, 0.37, &truth);
        BeatTracker tracker(44100);
        for (int64_t i = 0; i < clicks.frames(); i += 1000)
            tracker.feed(clicks.channel(0) + i, std::min<int64_t>(1000, clicks.frames() - i));
        const BeatGrid grid = tracker.finish();
        // Every beat after the tracker has settled (5 s) is found within 20 ms, and nothing else.
        int found = 0, expected = 0, extra = 0;
        for (double t : truth) {
            if (t < 5) continue;
            ++expected;
            if (std::abs(grid.snap(t) - t) <= 0.020) ++found;
        }
        for (double b : grid.beats)
            if (b >= 5 && std::none_of(truth.begin(), truth.end(),
                                       [&](double t) { return std::abs(t - b) <= 0.020; }))
                ++extra;
        std::vector<double> offsets;  // of each true beat's nearest found beat, in ms
        for (double t : truth)
            if (t >= 5) offsets.push_back(1000 * std::abs(grid.snap(t) - t));
        std::sort(offsets.begin(), offsets.end());
        qInfo(
            "%.1f BPM: found %.2f BPM, %d of %d beats within 20 ms (median %.1f ms off), %d extra",
            bpm, grid.bpm, found, expected, offsets[offsets.size() / 2], extra);
        QVERIFY2(std::abs(grid.bpm - bpm) < 1.0, qPrintable(QString::number(grid.bpm)));
        QVERIFY(found >= expected * 95 / 100);
        QVERIFY(extra <= expected / 20);
    }

    void snapGoesToTheNearestBeat() {
        BeatGrid g;
        g.beats = {1.0, 1.5, 2.0};
        QCOMPARE(g.snap(1.2), 1.0);
        QCOMPARE(g.snap(1.3), 1.5);
        QCOMPARE(g.snap(0.1), 1.0);
        QCOMPARE(g.snap(9.0), 2.0);
        QCOMPARE(BeatGrid{}.snap(3.0), 3.0);
    }

    // The chord and key finder on synthetic songs: triads and sevenths in major and minor keys
    // at several tempos. The figures are the README's.
    void chordsAndKeysOfSyntheticSongs() {
        using Q = ChordQuality;
        struct Case {
            int tonic;
            bool minor;
            double bpm;
            std::vector<std::pair<int, Q>> progression;
        };
        const std::vector<Case> cases{
            {0, false, 120, {{0, Q::Major}, {9, Q::Minor}, {5, Q::Major}, {7, Q::Dominant7}}},
            {7, false, 96, {{0, Q::Major7}, {2, Q::Minor7}, {7, Q::Dominant7}, {0, Q::Major}}},
            {2, false, 140, {{0, Q::Major}, {5, Q::Major}, {9, Q::Minor}, {7, Q::Major}}},
            {10, false, 84, {{0, Q::Major}, {4, Q::Minor}, {5, Q::Major7}, {7, Q::Dominant7}}},
            {9, true, 110, {{0, Q::Minor}, {8, Q::Major}, {3, Q::Major}, {10, Q::Major}}},
            {4, true, 76, {{0, Q::Minor}, {5, Q::Minor}, {7, Q::Dominant7}, {0, Q::Minor}}},
            {2, true, 128, {{0, Q::Minor7}, {5, Q::Minor7}, {8, Q::Major7}, {7, Q::Dominant7}}},
            {6, true, 100, {{0, Q::Minor}, {10, Q::Major}, {8, Q::Major}, {7, Q::Major}}},
        };
        auto triad = [](Chord c) {
            if (c.quality == Q::Dominant7 || c.quality == Q::Major7) c.quality = Q::Major;
            if (c.quality == Q::Minor7) c.quality = Q::Minor;
            return c;
        };
        double right = 0, rightTriad = 0, total = 0;
        int keys = 0;
        unsigned seed = 1;
        for (const Case& c : cases) {
            const synth::Song song =
                synth::song(c.tonic, c.minor, c.bpm, c.progression, 4, 3, seed++);
            ChromaTracker chroma(44100);
            std::vector<float> mono(size_t(song.audio.frames()));
            for (size_t i = 0; i < mono.size(); ++i)
                mono[i] = 0.5f * (song.audio.channel(0)[i] + song.audio.channel(1)[i]);
            chroma.feed(mono.data(), int64_t(mono.size()));
            const Key key = estimateKey(chroma.frames());
            const auto spans =
                estimateChords(chroma.frames(), chroma.hopSeconds(), chroma.offsetSeconds());
            // Time-weighted: step through the truth every 10 ms.
            double songRight = 0, songTotal = 0;
            for (const ChordSpan& t : song.chords)
                for (double at = t.start; at < t.end; at += 0.01) {
                    auto it = std::find_if(spans.begin(), spans.end(), [&](const ChordSpan& s) {
                        return at >= s.start && at < s.end;
                    });
                    const Chord found = it == spans.end() ? Chord{} : it->chord;
                    songRight += found == t.chord;
                    rightTriad += triad(found) == triad(t.chord);
                    ++songTotal;
                }
            right += songRight;
            total += songTotal;
            const bool keyRight = key.tonic == c.tonic && key.minor == c.minor;
            keys += keyRight;
            qInfo("%s at %.0f BPM: chords %.1f %% right; key %s (confidence %.2f)%s",
                  song.key.name().c_str(), c.bpm, 100 * songRight / songTotal, key.name().c_str(),
                  key.confidence, keyRight ? "" : " WRONG");
        }
        qInfo("chords: %.1f %% of the time exactly right, %.1f %% as triads; keys: %d of %zu",
              100 * right / total, 100 * rightTriad / total, keys, cases.size());
        QVERIFY(right / total > 0.80);
        QVERIFY(rightTriad / total > 0.85);
        QVERIFY(keys >= int(cases.size()) - 1);
    }

    void silenceHasNoChordsAndNoKey() {
        const AudioBuffer quiet = synth::silence(5);
        ChromaTracker chroma(44100);
        chroma.feed(quiet.channel(0), quiet.frames());
        QCOMPARE(estimateKey(chroma.frames()).tonic, -1);
        for (const ChordSpan& s : estimateChords(chroma.frames(), chroma.hopSeconds()))
            QCOMPARE(s.chord.name(), std::string("N"));
        QCOMPARE((Chord{10, ChordQuality::Major7}).name(), std::string("Bbmaj7"));
        QCOMPARE((Chord{6, ChordQuality::Minor}).name(), std::string("F#m"));
    }
};

QTEST_GUILESS_MAIN(TestPractice)
#include "test_practice.moc"
