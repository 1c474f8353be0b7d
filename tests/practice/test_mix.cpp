// Mixing a folder of stems (core/jobs/stem_mix, `music-split-cli mix`): exact sums with gain,
// pan, mute and solo, exact ranges, stems that stay together through tempo and pitch, library
// results scaled back, and every bad input refused with nothing written.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/error.h"
#include "core/jobs/song_analysis.h"
#include "core/jobs/stem_mix.h"
#include "tests/practice/synth.h"

using namespace msplit;

namespace {

EncodeOptions floatWav() {
    EncodeOptions o;
    o.format = FileFormat::Wav;
    o.depth = SampleFormat::Float32;
    o.clip = ClipMode::None;
    return o;
}

void write(const QString& path, const AudioBuffer& audio) {
    encodeAudio(path.toStdString(), audio, floatWav());
}

AudioBuffer read(const QString& path) {
    return decodeAudio(path.toStdString(), 44100, 2);
}

AudioBuffer noise(double seconds, unsigned seed, float amp = 0.2f) {
    AudioBuffer b = synth::silence(seconds);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-amp, amp);
    for (float& x : b.samples)
        x = d(rng);
    return b;
}

// Where the loudest sample of channel 0 is.
int64_t peakFrame(const AudioBuffer& b) {
    int64_t best = 0;
    for (int64_t i = 0; i < b.frames(); ++i)
        if (std::abs(b.channel(0)[i]) > std::abs(b.channel(0)[best])) best = i;
    return best;
}

// What is in a folder besides the stems (a refused mix must leave nothing, not even a temporary).
QStringList extras(const QString& folder, const QStringList& stems) {
    QStringList out;
    for (const QString& f : QDir(folder).entryList(QDir::Files | QDir::Hidden))
        if (!stems.contains(f)) out << f;
    return out;
}

struct Run {
    int status = -1;
    QString err;
};

Run cli(const QStringList& args) {
    QProcess p;
    p.start(MUSIC_SPLIT_CLI, QStringList{"mix"} + args);
    p.waitForFinished(120000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace

class TestMix : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString stems_;
    AudioBuffer drums_, bass_, vocals_;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        stems_ = dir_.filePath("song");
        QDir().mkpath(stems_);
        drums_ = noise(6, 1);
        bass_ = noise(6, 2);
        vocals_ = noise(6, 3);
        write(stems_ + "/drums.wav", drums_);
        write(stems_ + "/bass.wav", bass_);
        write(stems_ + "/vocals.wav", vocals_);
    }

    void findsTheStems() {
        const StemSet set = stemsInFolder(stems_);
        QCOMPARE(set.names, (QStringList{"bass", "drums", "vocals"}));
        QCOMPARE(set.frames, drums_.frames());
        QCOMPARE(set.sampleRate, 44100);
    }

    // At tempo 1 the mix is the exact sum: gains, the player's balance, mute, solo.
    void sumsExactly() {
        const StemSet set = stemsInFolder(stems_);
        MixSettings mix;
        mix.levels["vocals"].gain = 0.5;
        mix.levels["bass"].pan = 0.5;  // right: the left side at half
        mix.levels["drums"].mute = true;
        const QString out = dir_.filePath("sum.wav");
        mixStems(set, mix, out, floatWav());
        const AudioBuffer got = read(out);
        QCOMPARE(got.frames(), drums_.frames());
        for (int64_t i = 0; i < got.frames(); i += 97) {
            QVERIFY(std::abs(got.channel(0)[i] -
                             (0.5f * vocals_.channel(0)[i] + 0.5f * bass_.channel(0)[i])) < 1e-6);
            QVERIFY(std::abs(got.channel(1)[i] -
                             (0.5f * vocals_.channel(1)[i] + bass_.channel(1)[i])) < 1e-6);
        }
        MixSettings solo;
        solo.levels["bass"].solo = true;
        mixStems(set, solo, out, floatWav());
        const AudioBuffer bass = read(out);
        for (int64_t i = 0; i < bass.frames(); i += 97)
            QCOMPARE(bass.channel(1)[i], bass_.channel(1)[i]);
    }

    // A range starts and ends on the exact frames asked.
    void rangeIsExact() {
        MixSettings mix;
        mix.levels["drums"].solo = true;
        mix.from = 1.5;
        mix.to = 4.25;
        const QString out = dir_.filePath("range.wav");
        mixStems(stemsInFolder(stems_), mix, out, floatWav());
        const AudioBuffer got = read(out);
        QCOMPARE(got.frames(), int64_t(4.25 * 44100) - int64_t(1.5 * 44100));
        for (int64_t i : {int64_t(0), int64_t(1), got.frames() / 2, got.frames() - 1})
            QCOMPARE(got.channel(0)[i], drums_.channel(0)[i + int64_t(1.5 * 44100)]);
    }

    // Stretched once after the sum: a click in two stems stays one click, where each alone puts
    // it, at the tempo's time, whatever the pitch.
    void stemsStayTogetherThroughTempoAndPitch() {
        const QString folder = dir_.filePath("clicks");
        QDir().mkpath(folder);
        AudioBuffer a = synth::tone(220, 5, 0.05f), b = synth::tone(330, 5, 0.05f);
        synth::addClick(a, 2.0, 0.4f);
        synth::addClick(b, 2.0, 0.4f);
        write(folder + "/a.wav", a);
        write(folder + "/b.wav", b);
        const StemSet set = stemsInFolder(folder);
        for (auto [tempo, semitones] :
             std::vector<std::pair<double, double>>{{0.75, 0}, {1.5, -3}}) {
            MixSettings mix;
            mix.tempo = tempo;
            mix.semitones = semitones;
            mixStems(set, mix, folder + "/both.wav", floatWav());
            mix.levels["a"].solo = true;
            mixStems(set, mix, folder + "/a_only.wav", floatWav());
            mix.levels["a"].solo = false;
            mix.levels["b"].solo = true;
            mixStems(set, mix, folder + "/b_only.wav", floatWav());
            const AudioBuffer both = read(folder + "/both.wav"),
                              onlyA = read(folder + "/a_only.wav"),
                              onlyB = read(folder + "/b_only.wav");
            QCOMPARE(both.frames(), std::llround(5 * 44100 / tempo));
            const int64_t at = peakFrame(both);
            QVERIFY2(std::abs(double(at) / 44100 - 2.0 / tempo) < 0.01 * 2.0 / tempo,
                     qPrintable(QString::number(at)));
            QVERIFY(std::abs(peakFrame(onlyA) - at) <= 2);
            QVERIFY(std::abs(peakFrame(onlyB) - at) <= 2);
            // One click of both, not two of one: the sum's peak is about each one's twice.
            const double ratio =
                std::abs(both.channel(0)[at]) / std::abs(onlyA.channel(0)[peakFrame(onlyA)]);
            QVERIFY2(ratio > 1.6 && ratio < 2.4, qPrintable(QString::number(ratio)));
        }
    }

    // A library result: its stems were scaled by job.json's gain; the mix undoes it.
    void libraryResultIsScaledBack() {
        const QString folder = dir_.filePath("library-result");
        QDir().mkpath(folder);
        AudioBuffer half = drums_;
        for (float& x : half.samples)
            x *= 0.5f;
        write(folder + "/drums.wav", half);
        QFile json(folder + "/job.json");
        QVERIFY(json.open(QIODevice::WriteOnly));
        json.write(
            QJsonDocument(
                QJsonObject{{"stems", QJsonArray{"drums"}}, {"extension", "wav"}, {"gain", 0.5}})
                .toJson());
        json.close();
        const StemSet set = stemsInFolder(folder);
        QCOMPARE(set.gain, 0.5);
        mixStems(set, {}, folder + "/out.wav", floatWav());
        const AudioBuffer got = read(folder + "/out.wav");
        for (int64_t i = 0; i < got.frames(); i += 101)
            QVERIFY(std::abs(got.channel(0)[i] - drums_.channel(0)[i]) < 1e-6);
    }

    void badInputIsRefusedAndWritesNothing() {
        const StemSet set = stemsInFolder(stems_);
        const QStringList stemFiles{"bass.wav", "drums.wav", "vocals.wav"};
        auto refused = [&](const MixSettings& mix, const char* words) {
            try {
                mixStems(set, mix, stems_ + "/out.wav", floatWav());
                QFAIL("accepted");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains(words), e.what());
            }
            QCOMPARE(extras(stems_, stemFiles), QStringList());
        };
        MixSettings m;
        m.levels["guitar"].mute = true;
        refused(m, "no such stem");
        m = {};
        m.tempo = 2.5;
        refused(m, "tempo");
        m = {};
        m.semitones = -12.5;
        refused(m, "pitch");
        m = {};
        m.from = 7;
        refused(m, "range");
        m = {};
        m.from = 3;
        m.to = 2;
        refused(m, "range");
        m = {};
        for (const QString& s : set.names)
            m.levels[s].mute = true;
        refused(m, "nothing to hear");
        m = {};
        m.levels["bass"].gain = std::nan("");
        refused(m, "gain");

        // Folders that are not one song's stems.
        const QString odd = dir_.filePath("odd");
        QDir().mkpath(odd);
        for (auto [name, check] : std::vector<std::pair<const char*, const char*>>{
                 {"empty", "no stems"}, {"rates", "sample rates"}, {"lengths", "lengths"}}) {
            const QString f = odd + "/" + name;
            QDir().mkpath(f);
            if (QString(name) == "rates") {
                write(f + "/a.wav", drums_);
                AudioBuffer other = drums_;
                other.sampleRate = 48000;
                write(f + "/b.wav", other);
            }
            if (QString(name) == "lengths") {
                write(f + "/a.wav", drums_);
                write(f + "/b.wav", noise(5, 4));
            }
            try {
                stemsInFolder(f);
                QFAIL(name);
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains(check), e.what());
            }
        }
    }

    // A result's analysis: the tempo from the drums and the rest, the key and chords from the
    // stems but the drums (a click track in "drums" would smear them), kept and read back; and the
    // command line prints it.
    void analysisOfAResult() {
        const QString folder = dir_.filePath("analysed");
        QDir().mkpath(folder);
        using Q = ChordQuality;
        const synth::Song song = synth::song(
            7, false, 110, {{0, Q::Major}, {9, Q::Minor}, {5, Q::Major}, {7, Q::Dominant7}}, 4, 3);
        std::vector<double> clicks;
        AudioBuffer drums = synth::clickTrack(110, double(song.audio.frames()) / 44100, 0, &clicks);
        write(folder + "/drums.wav", drums);
        write(folder + "/other.wav", song.audio);
        const SongAnalysis a = analyzeStems(stemsInFolder(folder));
        QVERIFY2(std::abs(a.beats.bpm - 110) < 1, qPrintable(QString::number(a.beats.bpm)));
        QCOMPARE(a.key.name(), std::string("G major"));
        double right = 0, total = 0;
        for (const ChordSpan& t : song.chords)
            for (double at = t.start; at < t.end; at += 0.05, ++total)
                right += a.chordAt(at) == t.chord;
        QVERIFY2(right / total > 0.8, qPrintable(QString::number(right / total)));

        const QString file = analysisFile(folder);
        saveAnalysis(file, a);
        const auto back = loadAnalysis(file);
        QVERIFY(back.has_value());
        QCOMPARE(back->beats.beats.size(), a.beats.beats.size());
        QCOMPARE(back->chords.size(), a.chords.size());
        QCOMPARE(back->key.name(), a.key.name());
        QCOMPARE(back->chordAt(10.0).name(), a.chordAt(10.0).name());
        // A damaged or foreign file is not taken for an analysis.
        for (const QByteArray& junk : {QByteArray("{\"version\": 1, \"key_tonic\": 40}"),
                                       QByteArray("{\"version\": 99}"), QByteArray("\x00\x01")}) {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(junk);
            f.close();
            QVERIFY(!loadAnalysis(file).has_value());
        }

        QProcess p;
        p.start(MUSIC_SPLIT_CLI, {"analyze", folder});
        QVERIFY(p.waitForFinished(120000));
        const QString printed = QString::fromUtf8(p.readAllStandardOutput());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(
            printed.contains("Key: G major") && printed.contains("Em") && printed.contains("D7"),
            qPrintable(printed));
    }

    // The command line: an MP3 of the bass an octave down at 0.8x, checked by its pitch and
    // length; refused lines exit 2 or 1 with one line and leave no file.
    void commandLine() {
        const QString folder = dir_.filePath("tones");
        QDir().mkpath(folder);
        write(folder + "/bass.wav", synth::tone(220, 4));
        write(folder + "/other.wav", synth::tone(1000, 4));
        const QString out = dir_.filePath("out.mp3");
        Run r = cli({folder, "-o", out, "--solo", "bass", "--semitones", "-12", "--tempo", "0.8",
                     "--gain", "bass=-6"});
        QVERIFY2(r.status == 0, qPrintable(r.err));
        const AudioBuffer got = read(out);
        QVERIFY(std::abs(got.frames() - 5 * 44100) < 0.01 * 5 * 44100);
        int crossings = 0;  // rising zero crossings over 2 s in the middle
        for (int64_t i = 44100 + 1; i < 3 * 44100; ++i)
            crossings += got.channel(0)[i - 1] < 0 && got.channel(0)[i] >= 0;
        QVERIFY2(std::abs(crossings / 2.0 - 110) < 1.1, qPrintable(QString::number(crossings)));

        const QString bad = dir_.filePath("bad.wav");
        for (const QStringList& args : {QStringList{folder, "-o", bad, "--mute", "guitar"},
                                        QStringList{folder, "-o", bad, "--tempo", "0.1"},
                                        QStringList{folder, "-o", bad, "--gain", "bass"},
                                        QStringList{folder, "-o", dir_.filePath("bad.ogg")},
                                        QStringList{dir_.filePath("no-such-folder"), "-o", bad},
                                        QStringList{folder, "-o", bad, "--from", "1:2:3:4"}}) {
            r = cli(args);
            QVERIFY2(r.status == 1 || r.status == 2, qPrintable(args.join(' ')));
            QVERIFY2(r.err.trimmed().count('\n') == 0, qPrintable(r.err));
            QVERIFY(!QFile::exists(bad));
        }
        QCOMPARE(extras(folder, {"bass.wav", "other.wav"}), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestMix)
#include "test_mix.moc"
