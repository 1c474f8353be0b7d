// The Player on real files: stems and the original decoded off the UI thread into lanes, the
// library's gain undone, unreadable files reported, and the output device the caller chose.
#include <QAudioDevice>
#include <QMediaDevices>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/audio/encoder.h"
#include "core/player/click_lane.h"
#include "core/player/player.h"

using namespace msplit;

namespace {

// A 0.5 s stereo file of a constant level per channel.
QString writeLevel(const QTemporaryDir& dir, const QString& name, float left, float right) {
    AudioBuffer b;
    b.samples.assign(2 * 22050, left);
    std::fill(b.samples.begin() + 22050, b.samples.end(), right);
    EncodeOptions o;
    o.depth = SampleFormat::Float32;
    const QString path = dir.filePath(name);
    encodeAudio(path.toStdString(), b, o);
    return path;
}

// Loads one lane "a" (a quiet level) into `player`; whether it loaded.
bool loadOneLane(Player& player, const QTemporaryDir& dir) {
    QSignalSpy loaded(&player, &Player::loaded);
    player.load({{"a"}, {writeLevel(dir, "a.wav", 0.1f, 0.1f)}, 1, {}, {}, {}});
    return loaded.wait(10000);
}

}  // namespace

class TestPlayer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void loadsStemsAndTheOriginalIntoLanes() {
        QTemporaryDir dir;
        TrackFiles track;
        track.names = {"drums", "bass"};
        track.files = {writeLevel(dir, "drums.wav", 0.1f, 0.2f),
                       writeLevel(dir, "bass.wav", 0.3f, 0.4f)};
        track.gain = 0.5;  // written at half level: played back at full
        track.original = writeLevel(dir, "song.wav", 0.8f, 0.8f);
        Player player;
        QSignalSpy loaded(&player, &Player::loaded);
        player.load(track);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(player.laneNames(), QStringList({"mix", "drums", "bass", "click"}));
        QCOMPARE(player.length(), qint64(22050));
        QVERIFY(player.mixer()->muted(0));  // the original starts muted
        float mono = 0;  // each lane's channels' mean, as the waveform draws them up close
        QCOMPARE(player.readMono(1, 10, 1, &mono), int64_t(1));
        QVERIFY(std::abs(mono - 0.3f) < 1e-6f);  // (0.2 + 0.4) / 2
        QCOMPARE(player.readMono(2, 22000, 1, &mono), int64_t(1));
        QVERIFY(std::abs(mono - 0.7f) < 1e-6f);
        QCOMPARE(player.readMono(0, 10, 1, &mono), int64_t(1));
        QCOMPARE(mono, 0.8f);  // the original is not rescaled
        QCOMPARE(player.readMono(0, 22050, 1, &mono), int64_t(0));
        // What the mixer renders (read from disk as it plays): drums + bass, not the muted
        // original.
        std::vector<float> out(2 * 4000);
        int64_t played = 0;
        QTRY_VERIFY((player.mixer()->render(out.data(), 4000, &played), played == 4000));
        QVERIFY(std::abs(out[2 * 3999] - 0.8f) < 1e-5f);      // left: 0.2 + 0.6
        QVERIFY(std::abs(out[2 * 3999 + 1] - 1.2f) < 1e-5f);  // right: 0.4 + 0.8
    }

    // Peaks are made once in the background and kept where asked; the next load reads them and
    // does not read the audio again.
    // The metronome lane clicks on the beats given (after the song opened), to the frame, the
    // first of each bar higher, and follows seeks like the stems.
    void metronomeClicksOnTheBeats() {
        QTemporaryDir dir;
        TrackFiles track;
        track.names = {"drums"};
        track.files = {writeLevel(dir, "drums.wav", 0.1f, 0.1f)};
        Player player;
        QSignalSpy loaded(&player, &Player::loaded);
        player.load(track);
        QVERIFY(loaded.wait(10000));
        const int click = player.clickLane();
        QCOMPARE(click, 1);
        QVERIFY(player.mixer()->muted(click));            // off until asked for
        QCOMPARE(player.beatInterval(), int64_t(22050));  // no beats yet: 120 BPM
        player.setBeats({1000, 6000, 11000, 16000, 21000, 21100}, 4);
        QCOMPARE(player.beatInterval(), int64_t(5000));  // the count-in's beat: the median gap
        player.setBeats({1000, 6000, 11000, 16000, 21000}, 4);
        player.mixer()->setMute(0, true);
        player.mixer()->setMute(click, false);
        player.mixer()->seek(0);
        std::vector<float> out(2 * 22050);
        int64_t done = 0;
        QDeadlineTimer deadline(10000);
        while (done < 22050 && !deadline.hasExpired()) {  // the reader thread fills the ring
            int64_t played = 0;
            player.mixer()->render(out.data() + 2 * done, 22050 - done, &played);
            done += played;
        }
        QCOMPARE(done, int64_t(22050));
        auto onset = [&](int64_t from) {  // the first sounding frame from `from`
            for (int64_t i = from; i < 22050; ++i)
                if (out[size_t(2 * i)] != 0) return i;
            return int64_t(-1);
        };
        const auto& high = clickSound(true);
        const auto& low = clickSound(false);
        QCOMPARE(onset(500), int64_t(1001));  // past the mute's ramp; a click's sample 0 is 0
        QCOMPARE(out[size_t(2 * 1010)], high[10]);
        QCOMPARE(onset(2200), int64_t(6001));  // after the first click's 25 ms
        QCOMPARE(out[size_t(2 * 6010)], low[10]);
        QCOMPARE(out[size_t(2 * 21010)], high[10]);  // the fifth beat starts a bar
        QCOMPARE(onset(16000 + int64_t(low.size())), int64_t(21001));
    }

    void peaksAreMadeOnceAndKept() {
        QTemporaryDir dir;
        TrackFiles track;
        track.names = {"drums"};
        track.files = {writeLevel(dir, "drums.wav", -0.5f, 0.25f)};
        track.peaks = {dir.filePath(".waveform/drums.peaks")};
        Player player;
        QSignalSpy loaded(&player, &Player::loaded);
        player.load(track);
        QVERIFY(loaded.wait(10000));
        QTRY_VERIFY(player.peaks(0) && player.peaks(0)->finished());
        QCOMPARE(player.peaks(0)->frames(), int64_t(22050));
        QCOMPARE(player.peaks(0)->range(0, 22050), std::make_pair(-0.125f, -0.125f));
        QTRY_VERIFY(QFile::exists(track.peaks[0]));
        QFile::remove(track.files[0]);  // the next load must take the peaks from the file
        writeLevel(dir, "drums.wav", 0.5f, 0.5f);
        player.load(track);
        QVERIFY(loaded.wait(10000));
        QVERIFY(player.peaks(0)->finished());
        QCOMPARE(player.peaks(0)->range(0, 22050), std::make_pair(-0.125f, -0.125f));
    }

    void aMissingOriginalIsLeftOut() {
        QTemporaryDir dir;
        TrackFiles track;
        track.names = {"vocals"};
        track.files = {writeLevel(dir, "vocals.wav", 0.1f, 0.1f)};
        track.original = dir.filePath("gone.mp3");
        Player player;
        QSignalSpy loaded(&player, &Player::loaded);
        player.load(track);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(player.laneNames(), QStringList({"vocals", "click"}));
    }

    void anUnreadableStemIsAnError() {
        QTemporaryDir dir;
        QFile bad(dir.filePath("drums.wav"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("RIFF????WAVEjunk");
        bad.close();
        Player player;
        QSignalSpy error(&player, &Player::error);
        QSignalSpy loaded(&player, &Player::loaded);
        player.load({{"drums"}, {bad.fileName()}, 1, {}, {}, {}});
        QVERIFY(error.wait(10000));
        QVERIFY(error.first().first().toString().contains("drums.wav"));
        QCOMPARE(loaded.size(), 0);
    }

    // Only the newest load counts when songs are chosen quickly one after another.
    void theLastLoadWins() {
        QTemporaryDir dir;
        const QString a = writeLevel(dir, "a.wav", 0.1f, 0.1f);
        const QString b = writeLevel(dir, "b.wav", 0.5f, 0.5f);
        Player player;
        QSignalSpy loaded(&player, &Player::loaded);
        player.load({{"a"}, {a}, 1, {}, {}, {}});
        player.load({{"b"}, {b}, 1, {}, {}, {}});
        QVERIFY(loaded.wait(10000));
        QTest::qWait(200);
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(player.laneNames(), QStringList({"b", "click"}));
    }

    // The playhead is what is heard: the mixer's position less the device's buffer, counted at
    // the device's rate, and back across a loop's wrap.
    void heardPositionAccountsForTheBufferAndTheLoop() {
        QCOMPARE(heardPosition(10000, 4410, 44100, 44100, 0, 0), int64_t(5590));
        QCOMPARE(heardPosition(10000, 4800, 48000, 44100, 0, 0), int64_t(5590));  // 100 ms
        QCOMPARE(heardPosition(1000, 4410, 44100, 44100, 0, 0), int64_t(0));
        // Looping [20000, 30000): rendered 1000 frames past the wrap, 4410 still queued.
        QCOMPARE(heardPosition(21000, 4410, 44100, 44100, 20000, 30000), int64_t(26590));
        QCOMPARE(heardPosition(25000, 4410, 44100, 44100, 20000, 30000), int64_t(20590));
        // Before the loop, nothing wraps.
        QCOMPARE(heardPosition(15000, 4410, 44100, 44100, 20000, 30000), int64_t(10590));
        // Stretched: half speed makes 100 ms of device 50 ms of song; 3000 frames wait inside.
        QCOMPARE(heardPosition(20000, 4410, 44100, 44100, 0, 0, 0.5, 3000), int64_t(14795));
    }

    // Rubber Band's set-up (and the check of which engine this CPU runs) is made on the thread
    // pool: the first tempo change returns at once and is heard once the stretcher is there.
    void theStretcherIsMadeOffTheUiThread() {
        QTemporaryDir dir;
        Player player;
        QVERIFY(loadOneLane(player, dir));
        QVERIFY(!player.stretcherReady());
        player.setTempo(0.8);
        player.setSemitones(30);            // clamped
        QVERIFY(!player.stretcherReady());  // asked for, not made here
        QCOMPARE(player.tempo(), 0.8);
        QCOMPARE(player.semitones(), 12.0);
        QTRY_VERIFY_WITH_TIMEOUT(player.stretcherReady(), 10000);
        player.setTempo(1.5);  // from now on straight to it
        QCOMPARE(player.tempo(), 1.5);
    }

    void anUnknownOutputFallsBackToTheDefault() {
        QTemporaryDir dir;
        Player player;
        QVERIFY(loadOneLane(player, dir));
        player.setOutputDevice("no-such-device");
        player.play();
        if (QMediaDevices::defaultAudioOutput().isNull()) {
            QVERIFY(!player.playing());
            QVERIFY(player.outputError().contains("No audio output device"));
        } else {
            QVERIFY(player.playing());
            QVERIFY(player.outputError().isEmpty());
            player.stop();
            QVERIFY(!player.playing());
            QCOMPARE(player.position(), qint64(0));
        }
    }
};

QTEST_GUILESS_MAIN(TestPlayer)
#include "test_player.moc"
