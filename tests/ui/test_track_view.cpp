// The waveform and track view offscreen: a synthetic signal (silence, then a full-scale burst)
// draws where it should at two zoom levels, the playhead sits at the right x after a seek, mute
// greys a lane and silences it in the mixer, and playback without an audio device says so.
#include <QAudioDevice>
#include <QLabel>
#include <QMediaDevices>
#include <QToolButton>
#include <QtTest>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QSpinBox>
#include <QTemporaryDir>

#include "core/audio/encoder.h"
#include "core/player/mixer_device.h"
#include "tests/practice/synth.h"
#include "ui/chord_lane.h"
#include "ui/track_view.h"
#include "ui/waveform_view.h"

using namespace msplit;
using ui::WaveformView;

namespace {

constexpr int kFrames = 44100 * 4;

std::shared_ptr<const AudioBuffer> silenceThenBurst() {
    auto s = std::make_shared<AudioBuffer>();
    s->channels = 1;
    s->samples.assign(kFrames, 0.0f);
    for (int i = kFrames / 2; i < kFrames; ++i)
        s->samples[size_t(i)] = (i % 2) ? 1.0f : -1.0f;
    return s;
}

bool near(QColor a, QColor b) {
    return std::abs(a.red() - b.red()) < 12 && std::abs(a.green() - b.green()) < 12 &&
           std::abs(a.blue() - b.blue()) < 12;
}

// Rows of lane 0 at x that carry `colour`.
int colouredRows(const QImage& img, int x, QColor colour) {
    int n = 0;
    for (int y = WaveformView::kRulerHeight;
         y < WaveformView::kRulerHeight + WaveformView::kLaneHeight - 1; ++y)
        n += near(img.pixelColor(x, y), colour);
    return n;
}

}  // namespace

class TestTrackView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void burstDrawsWhereItShould() {
        WaveformView w;
        w.resize(400, WaveformView::kRulerHeight + WaveformView::kLaneHeight);
        const auto burst = silenceThenBurst();
        int reads = 0;  // up close, samples are read from the lane (the player reads its file)
        w.setLanes({"drums"}, {peaksOf(*burst)}, kFrames, 44100,
                   [&](int, int64_t from, int64_t n, float* mono) {
                       ++reads;
                       const int64_t got = std::clamp<int64_t>(burst->frames() - from, 0, n);
                       std::copy_n(burst->samples.data() + from, got, mono);
                       return got;
                   });
        w.zoomToFit();
        QTRY_VERIFY(w.peaksReady());  // peaks are built off the UI thread
        const QColor c = w.laneColour(1);
        QImage img = w.grab().toImage();
        img.save(QString(MUSIC_SPLIT_SCREENSHOTS) + "/waveform-fit.png");
        QVERIFY(colouredRows(img, 100, c) <= 2);   // silence: the centre line at most
        QVERIFY(colouredRows(img, 300, c) >= 55);  // full scale: nearly the lane's height
        // The edge of the burst is at the middle, give or take a pixel.
        QVERIFY(colouredRows(img, 198, c) <= 2);
        QVERIFY(colouredRows(img, 202, c) >= 55);

        // Zoomed in so the burst starts at x = 100 with 10 frames per pixel.
        w.zoom(w.framesPerPixel() / 10.0, 0);
        QVERIFY(std::abs(w.framesPerPixel() - 10.0) < 1e-9);
        w.scrollTo(kFrames / 2 - 100 * 10.0);
        img = w.grab().toImage();
        img.save(QString(MUSIC_SPLIT_SCREENSHOTS) + "/waveform-zoom.png");
        QVERIFY(colouredRows(img, 98, c) <= 2);
        QVERIFY(colouredRows(img, 101, c) >= 55);
        QVERIFY(reads >= 1);

        // The playhead after a seek.
        w.setPlayhead(kFrames / 2 + 250 * 10);
        img = w.grab().toImage();
        QCOMPARE(w.xOf(kFrames / 2 + 250 * 10), 350);
        QVERIFY(near(img.pixelColor(350, 5), QColor(220, 30, 30)));
        QVERIFY(!near(img.pixelColor(340, 5), QColor(220, 30, 30)));

        // Muted: the lane turns grey.
        w.setAudible(0, false);
        img = w.grab().toImage();
        QCOMPARE(colouredRows(img, 300, c), 0);
        QVERIFY(colouredRows(img, 300, QColor(150, 150, 150)) >= 55);
        w.setAudible(0, true);
        // A frontier (a separation still running): nothing drawn beyond it, the rest shaded.
        w.zoomToFit();
        w.setFrontier(kFrames * 3 / 4);
        img = w.grab().toImage();
        img.save(QString(MUSIC_SPLIT_SCREENSHOTS) + "/waveform-frontier.png");
        QVERIFY(colouredRows(img, 250, c) >= 55);
        QCOMPARE(colouredRows(img, 350, c), 0);
        w.setFrontier(kFrames);
    }

    void laneControlsDriveTheMixer() {
        ui::TrackView view;
        view.resize(900, 400);
        AudioBuffer a, b;
        a.channels = b.channels = 1;
        a.samples.assign(1000, 0.25f);
        b.samples.assign(1000, 0.5f);
        QSignalSpy ready(&view, &ui::TrackView::lanesReady);
        view.player().setLanes({"bass", "vocals"}, {a, b});
        QMetaObject::invokeMethod(&view.player(), "loaded");
        QCOMPARE(ready.size(), 1);
        auto* mute = view.findChild<QToolButton*>("mute1");
        QVERIFY(mute);
        mute->click();
        QVERIFY(view.player().mixer()->muted(1));
        std::vector<float> out(2 * 600);
        view.player().mixer()->render(out.data(), 600);
        QCOMPARE(out[2 * 599], 0.25f);                   // only bass after the ramp
        view.findChild<QToolButton*>("solo1")->click();  // solo a muted lane: mute wins
        QVERIFY(!view.player().mixer()->audible(0) && !view.player().mixer()->audible(1));

        // The sink pulls the same frames through the device.
        Mixer m(44100, 1);
        m.addLane(a);
        QAudioFormat fmt;
        fmt.setSampleRate(44100);
        fmt.setChannelCount(2);
        fmt.setSampleFormat(QAudioFormat::Float);
        MixerDevice device(m, fmt);
        QByteArray bytes = device.read(8 * 100);
        QCOMPARE(bytes.size(), 800);
        QCOMPARE(reinterpret_cast<const float*>(bytes.constData())[199], 0.25f);
        QCOMPARE(m.position(), qint64(100));

        view.player().play();
        if (QMediaDevices::defaultAudioOutput().isNull()) {
            QVERIFY(!view.player().playing());
            QVERIFY(
                view.findChild<QLabel*>("playerNotice")->text().contains("No audio output device"));
        } else {  // e.g. PulseAudio's null sink: the playhead follows what was played
            AudioBuffer longer;
            longer.channels = 1;
            longer.samples.assign(44100 * 3, 0.1f);
            view.player().setLanes({"tone"}, {longer});
            view.player().play();
            QVERIFY(view.player().playing());
            QTRY_VERIFY_WITH_TIMEOUT(view.player().position() > 44100 / 2, 5000);
            view.player().pause();
            const qint64 at = view.player().position();
            QTest::qWait(300);
            QCOMPARE(view.player().position(), at);  // paused where it was heard
        }
    }

    // A result's practice controls: its beats, tempo, key and chords found in the background and
    // shown (ticks on the ruler, the chord lane, the label), kept for the next time; loops snap to
    // beats; tempo and pitch reach the player.
    void practiceControls() {
        QTemporaryDir dir;
        using Q = ChordQuality;
        const synth::Song song = synth::song(
            7, false, 100, {{0, Q::Major}, {4, Q::Minor}, {5, Q::Major}, {7, Q::Dominant7}}, 4, 2);
        std::vector<double> clicks;
        const AudioBuffer drums =
            synth::clickTrack(100, double(song.audio.frames()) / 44100, 0.0, &clicks);
        EncodeOptions wav;
        wav.depth = SampleFormat::Float32;
        wav.clip = ClipMode::None;
        encodeAudio(dir.filePath("drums.wav").toStdString(), drums, wav);
        encodeAudio(dir.filePath("other.wav").toStdString(), song.audio, wav);
        JobRecord r;
        r.folder = dir.path();
        r.title = "Practice";
        r.model = "synthetic";
        r.stems = {"drums", "other"};
        r.extension = "wav";
        ui::TrackView view;
        view.resize(1100, 420);
        view.show();
        QSignalSpy analysed(&view, &ui::TrackView::analysisReady);
        view.showRecord(r);
        QTRY_VERIFY_WITH_TIMEOUT(analysed.size() == 1, 60000);
        QVERIFY(view.analysis().has_value());
        const QString label = view.findChild<QLabel*>("analysisLabel")->text();
        QVERIFY2(label.contains("100.0 BPM") && label.contains("G major"), qPrintable(label));
        QVERIFY(QFile::exists(analysisFile(dir.path())));
        QVERIFY(view.chordLane()->chords().size() >= 8);
        view.waveform()->zoomToFit();
        QTest::qWait(50);

        // A beat's tick on the ruler, in the grid's blue.
        const QImage wave = view.waveform()->grab().toImage();
        const double beat = view.analysis()->beats.beats.at(4);
        const int x = view.waveform()->xOf(qint64(beat * 44100));
        QVERIFY2(near(wave.pixelColor(x, 2), QColor(40, 110, 220)) ||
                     near(wave.pixelColor(x + 1, 2), QColor(40, 110, 220)),
                 qPrintable(wave.pixelColor(x, 2).name()));
        // The chord lane names the chords where they sound: the second bar is B minor (iii).
        const auto& spans = view.chordLane()->chords();
        const double at = 3.6;  // the middle of bar 2 (4 beats of 0.6 s: 2.4 s to 4.8 s)
        const auto it = std::find_if(spans.begin(), spans.end(), [&](const ChordSpan& c) {
            return at >= c.start && at < c.end;
        });
        QVERIFY(it != spans.end());
        QCOMPARE(it->chord.name(), std::string("Bm"));
        view.grab().save(QString(MUSIC_SPLIT_SCREENSHOTS) + "/practice-controls.png");

        // Loop points dropped between beats land on the nearest ones.
        Q_EMIT view.waveform()->loopSelected(qint64((clicks[3] + 0.1) * 44100),
                                             qint64((clicks[7] - 0.12) * 44100));
        view.findChild<QToolButton*>("loopButton")->setChecked(true);
        const auto [a, b] = view.player().mixer()->loop();
        QVERIFY2(std::abs(double(a) / 44100 - clicks[3]) < 0.02, qPrintable(QString::number(a)));
        QVERIFY2(std::abs(double(b) / 44100 - clicks[7]) < 0.02, qPrintable(QString::number(b)));

        view.findChild<QSpinBox*>("tempoBox")->setValue(80);
        view.findChild<QDoubleSpinBox*>("pitchBox")->setValue(-2.5);
        QCOMPARE(view.player().tempo(), 0.8);
        QCOMPARE(view.player().semitones(), -2.5);

        // The next time, the kept analysis is read, not made again.
        const QDateTime made = QFileInfo(analysisFile(dir.path())).lastModified();
        view.showRecord(r);
        QTRY_VERIFY_WITH_TIMEOUT(analysed.size() == 2, 10000);
        QCOMPARE(QFileInfo(analysisFile(dir.path())).lastModified(), made);
    }

    // The speed trainer: each time round the loop, a step faster, up to the target; the repeat
    // count follows.
    void speedTrainerSpeedsUpEachRepeat() {
        ui::TrackView view;
        AudioBuffer tone;
        tone.channels = 1;
        tone.samples.assign(44100, 0.1f);
        QSignalSpy ready(&view, &ui::TrackView::lanesReady);
        view.player().setLanes({"tone"}, {tone});
        QMetaObject::invokeMethod(&view.player(), "loaded");
        QCOMPARE(ready.size(), 1);
        Q_EMIT view.waveform()->loopSelected(0, 4410);
        view.findChild<QToolButton*>("loopButton")->setChecked(true);
        view.setSpeedTrainer(true, 10, 125);
        view.findChild<QCheckBox*>("speedTrainer")->setChecked(true);
        view.setTempoPercent(90);
        std::vector<float> out(2 * 4410);
        for (int round = 1; round <= 5; ++round) {
            view.player().mixer()->render(out.data(), 4410);  // once round the loop
            Q_EMIT view.player().positionChanged(0);
            if (round == 1) QCOMPARE(view.player().tempo(), 0.9);  // not wrapped yet
        }
        // Four wraps: 90 + 4 x 10, held at 125.
        QCOMPARE(view.repeat(), 5);
        QCOMPARE(view.player().tempo(), 1.25);
        QCOMPARE(view.findChild<QLabel*>("repeatLabel")->text(), QString("Repeat 5"));
    }

    // Tempo, pitch, the loop and markers are kept in the result's job.json and come back when
    // the song is opened again (by another view, as after a restart).
    void practiceStateIsKeptWithTheSong() {
        QTemporaryDir dir;
        EncodeOptions wav;
        wav.depth = SampleFormat::Float32;
        wav.clip = ClipMode::None;
        encodeAudio(dir.filePath("bass.wav").toStdString(), synth::tone(110, 4), wav);
        encodeAudio(dir.filePath("vocals.wav").toStdString(), synth::tone(440, 4), wav);
        JobRecord r;
        r.folder = dir.path();
        r.title = "Kept";
        r.stems = {"bass", "vocals"};
        r.extension = "wav";
        rewriteRecord(r);
        {
            ui::TrackView view;
            QSignalSpy ready(&view, &ui::TrackView::lanesReady);
            view.showRecord(r);
            QVERIFY(ready.wait(10000));
            view.findChild<QCheckBox*>("snapToBeats")->setChecked(false);
            view.setTempoPercent(85);
            view.setSemitones(1.5);
            Q_EMIT view.waveform()->loopSelected(44100, 2 * 44100);
            view.findChild<QToolButton*>("loopButton")->setChecked(true);
            view.findChild<QCheckBox*>("countIn")->setChecked(true);
            QCOMPARE(view.player().countIn(), 4);
            view.player().seek(22050);
            view.addMarker("Solo");
            view.player().seek(3 * 44100);
            view.addMarker();
            QCOMPARE(view.markers().size(), size_t(2));
            QCOMPARE(view.findChild<QComboBox*>("markerBox")->count(), 2);
            auto saved = [&] {
                QFile f(dir.filePath("job.json"));
                return f.open(QIODevice::ReadOnly) && f.readAll().contains("Marker 2");
            };
            QTRY_VERIFY(saved());
        }
        ui::TrackView again;
        QSignalSpy ready(&again, &ui::TrackView::lanesReady);
        again.showRecord(r);  // the caller's copy knows nothing of the practice state
        QVERIFY(ready.wait(10000));
        QCOMPARE(again.findChild<QSpinBox*>("tempoBox")->value(), 85);
        QCOMPARE(again.player().tempo(), 0.85);
        QCOMPARE(again.player().semitones(), 1.5);
        QVERIFY(again.findChild<QToolButton*>("loopButton")->isChecked());
        QCOMPARE(again.player().mixer()->loop(), (std::pair<int64_t, int64_t>(44100, 88200)));
        QVERIFY(again.findChild<QCheckBox*>("countIn")->isChecked());
        QCOMPARE(again.player().countIn(), 4);
        QCOMPARE(again.markers().size(), size_t(2));
        QCOMPARE(again.markers()[0].second, QString("Solo"));
        QCOMPARE(again.markers()[0].first, qint64(22050));
        again.jumpToMarker(1);
        QCOMPARE(again.player().position(), qint64(3 * 44100));
    }
};

QTEST_MAIN(TestTrackView)
#include "test_track_view.moc"
