// Audio in and out through FFmpeg: every output format round-trips, inputs of any rate, layout and
// container decode to 44.1 kHz stereo, tags survive, bad files give clear errors, writes are
// atomic.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmath>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "core/atomic_file.h"
#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/audio/float_spool.h"
#include "core/error.h"

using namespace msplit;

namespace {

// Two different sines, one per channel, at `amp`.
AudioBuffer sines(int rate, double seconds, int channels = 2, double amp = 0.5) {
    AudioBuffer b;
    b.sampleRate = rate;
    b.channels = channels;
    const auto frames = static_cast<int64_t>(seconds * rate);
    b.samples.resize(static_cast<size_t>(frames * channels));
    for (int c = 0; c < channels; ++c)
        for (int64_t i = 0; i < frames; ++i)
            b.channel(c)[i] =
                static_cast<float>(amp * std::sin(2 * M_PI * (440.0 + 220 * c) * i / rate));
    return b;
}

double maxDiff(const AudioBuffer& a, const AudioBuffer& b) {
    if (a.samples.size() != b.samples.size()) return INFINITY;
    double d = 0;
    for (size_t i = 0; i < a.samples.size(); ++i)
        d = std::max(d, std::abs(double(a.samples[i]) - double(b.samples[i])));
    return d;
}

double rms(const float* x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += double(x[i]) * x[i];
    return n ? std::sqrt(s / double(n)) : 0;
}

// Upward zero crossings per second of one channel: the frequency of a sine.
double frequency(const AudioBuffer& b, int c) {
    int crossings = 0;
    const float* x = b.channel(c);
    for (int64_t i = 1; i < b.frames(); ++i)
        if (x[i - 1] < 0 && x[i] >= 0) ++crossings;
    return crossings / b.seconds();
}

ErrorKind errorOf(const std::function<void()>& f, QString* message = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.kind();
    }
    return ErrorKind::Internal;  // "no error" reads as a failure in every test below
}

// Makes a test input with the ffmpeg command line (formats our encoder does not write).
bool ffmpeg(const QStringList& args) {
    QProcess p;
    p.start("ffmpeg", QStringList{"-v", "error", "-y"} + args);
    return p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

QStringList leftovers(const QString& dir) {
    return QDir(dir).entryList(QDir::Files | QDir::Hidden).filter(".part");
}

}  // namespace

class TestAudio : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    QString path(const QString& name) const { return tmp_.filePath(name); }
    QString encodedSines(const QString& name, const EncodeOptions& opt, double seconds) const {
        encodeAudio(path(name).toStdString(), sines(44100, seconds), opt);
        return path(name);
    }

private Q_SLOTS:
    void losslessRoundTrips_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("depth");
        QTest::addColumn<QString>("codec");
        QTest::addColumn<double>("tolerance");  // half a step of the integer format
        QTest::newRow("wav16") << int(FileFormat::Wav) << int(SampleFormat::Int16) << "pcm_s16le"
                               << 0.5 / 32768;
        QTest::newRow("wav24") << int(FileFormat::Wav) << int(SampleFormat::Int24) << "pcm_s24le"
                               << 0.5 / 8388608;
        QTest::newRow("wav32f") << int(FileFormat::Wav) << int(SampleFormat::Float32) << "pcm_f32le"
                                << 0.0;
        QTest::newRow("flac16") << int(FileFormat::Flac) << int(SampleFormat::Int16) << "flac"
                                << 0.5 / 32768;
        QTest::newRow("flac24") << int(FileFormat::Flac) << int(SampleFormat::Int24) << "flac"
                                << 0.5 / 8388608;
    }
    void losslessRoundTrips() {
        QFETCH(int, format);
        QFETCH(int, depth);
        QFETCH(QString, codec);
        QFETCH(double, tolerance);
        const AudioBuffer in = sines(44100, 1.5);
        EncodeOptions opt;
        opt.format = FileFormat(format);
        opt.depth = SampleFormat(depth);
        opt.clip = ClipMode::None;
        const QString file = path(
            QString("rt_%1.%2")
                .arg(QTest::currentDataTag(), opt.format == FileFormat::Flac ? "flac" : "wav"));
        encodeAudio(file.toStdString(), in, opt);
        AudioInfo info = probeAudio(file.toStdString());
        QCOMPARE(QString::fromStdString(info.codec), codec);
        QCOMPARE(info.sampleRate, 44100);
        QCOMPARE(info.channels, 2);
        QVERIFY(std::abs(info.durationSeconds - 1.5) < 0.01);
        const AudioBuffer out = decodeAudio(file.toStdString());
        QCOMPARE(out.frames(), in.frames());
        const double d = maxDiff(in, out);
        QVERIFY2(d <= tolerance * 1.0001, qPrintable(QString("max difference %1").arg(d)));
        QCOMPARE(QFileInfo(file).permissions() & QFile::ReadOther, QFile::ReadOther);  // not 0600
        QVERIFY(leftovers(tmp_.path()).isEmpty());
    }

    void mp3KeepsLengthAndSound() {
        const AudioBuffer in = sines(44100, 2.0);
        EncodeOptions opt;
        opt.format = FileFormat::Mp3;
        opt.mp3BitrateKbps = 192;
        opt.clip = ClipMode::None;
        const QString file = path("sines.mp3");
        encodeAudio(file.toStdString(), in, opt);
        AudioInfo info = probeAudio(file.toStdString());
        QCOMPARE(QString::fromStdString(info.codec), QString("mp3"));
        const AudioBuffer out = decodeAudio(file.toStdString());
        // LAME's delay and padding are trimmed by the decoder from the Xing/LAME header.
        QVERIFY2(std::abs(out.frames() - in.frames()) <= 1152,
                 qPrintable(QString::number(out.frames())));
        QCOMPARE(std::round(frequency(out, 0)), 440.0);
        QCOMPARE(std::round(frequency(out, 1)), 660.0);
        // Aligned (the decoder removes LAME's delay), the tone comes back at a good SNR.
        const int64_t n = std::min(in.frames(), out.frames());
        double signal = 0, noise = 0;
        for (int c = 0; c < 2; ++c)
            for (int64_t i = 0; i < n; ++i) {
                signal += double(in.channel(c)[i]) * in.channel(c)[i];
                noise += std::pow(double(in.channel(c)[i]) - out.channel(c)[i], 2);
            }
        const double snr = 10 * std::log10(signal / noise);
        qInfo("mp3 192 kb/s: SNR %.1f dB", snr);
        QVERIFY2(snr >= 25, qPrintable(QString::number(snr)));
        // LAME itself comes out about 0.3 dB quieter (the ffmpeg command line too): allow 0.5 dB.
        const double level = rms(out.channel(0) + 4410, out.frames() - 8820);
        QVERIFY2(std::abs(20 * std::log10(level / (0.5 / std::sqrt(2.0)))) < 0.5,
                 qPrintable(QString::number(level)));
    }

    void resamplesToTheModelRate() {
        const AudioBuffer in = sines(48000, 2.0);
        EncodeOptions opt;
        opt.depth = SampleFormat::Float32;
        opt.clip = ClipMode::None;
        const QString file = path("48k.wav");
        encodeAudio(file.toStdString(), in, opt);
        AudioInfo info;
        const AudioBuffer out = decodeAudio(file.toStdString(), 44100, 2, &info);
        QCOMPARE(info.sampleRate, 48000);
        QCOMPARE(out.sampleRate, 44100);
        QVERIFY2(std::abs(out.frames() - 88200) <= 2, qPrintable(QString::number(out.frames())));
        QCOMPARE(std::round(frequency(out, 0)), 440.0);
        QCOMPARE(std::round(frequency(out, 1)), 660.0);
        // Away from the edges the level is kept (a good resampler, not a linear one).
        QVERIFY(std::abs(rms(out.channel(0) + 4410, 44100) - 0.5 / std::sqrt(2.0)) < 0.002);
    }

    void monoIsDuplicated() {
        const AudioBuffer in = sines(44100, 1.0, 1);
        EncodeOptions opt;
        opt.depth = SampleFormat::Float32;
        opt.clip = ClipMode::None;
        const QString file = path("mono.wav");
        encodeAudio(file.toStdString(), in, opt);
        const AudioBuffer out = decodeAudio(file.toStdString());
        QCOMPARE(out.channels, 2);
        QCOMPARE(out.frames(), in.frames());
        for (int c = 0; c < 2; ++c)
            QVERIFY(std::equal(in.channel(0), in.channel(0) + in.frames(), out.channel(c)));
    }

    // MP3 frames may switch between stereo and mono (radio recordings; files joined with cat):
    // the decoder's output changes format part-way and the resampler is made again for it.
    void formatChangesPartWayAreFollowed() {
        const QString stereo = path("st.mp3"), mono = path("mo.mp3"), joined = path("joined.mp3");
        QVERIFY(ffmpeg({"-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=44100",
                        "-ac", "2", "-b:a", "128k", stereo}));
        QVERIFY(ffmpeg({"-f", "lavfi", "-i", "sine=frequency=660:duration=1:sample_rate=44100",
                        "-ac", "1", "-b:a", "64k", mono}));
        QFile out(joined);
        QVERIFY(out.open(QIODevice::WriteOnly));
        for (const QString& part : {stereo, mono}) {
            QFile in(part);
            QVERIFY(in.open(QIODevice::ReadOnly));
            out.write(in.readAll());
        }
        out.close();
        const AudioBuffer a = decodeAudio(joined.toStdString());
        QCOMPARE(a.channels, 2);
        QVERIFY2(std::abs(a.frames() - 2 * 44100) < 4 * 1152,
                 qPrintable(QString::number(a.frames())));
        // The mono second is heard in both channels, at its level (not silence, not garbage).
        double rms[2] = {0, 0};
        const int64_t from = a.frames() - 44100 / 2, n = 44100 / 4;
        for (int c = 0; c < 2; ++c) {
            for (int64_t i = from; i < from + n; ++i)
                rms[c] += double(a.channel(c)[i]) * a.channel(c)[i];
            rms[c] = std::sqrt(rms[c] / double(n));
        }
        QVERIFY2(rms[0] > 0.05 && std::abs(rms[0] - rms[1]) < 1e-3,
                 qPrintable(QString("%1 %2").arg(rms[0]).arg(rms[1])));

        // What libFuzzer found (an MP3 whose frames change layout): it crashed in libswresample.
        try {
            const AudioBuffer b =
                decodeAudio(MUSIC_SPLIT_TEST_DATA "/audio/regressions/mp3-format-changes.mp3");
            QVERIFY(b.frames() >= 0);
        } catch (const Error& e) {
            QVERIFY(!std::string(e.what()).empty());
        }
    }

    void surroundIsDownmixed() {
        // 5.1 with a tone only in the front left: it must reach the left output, not the right.
        const QString file = path("surround.flac");
        QVERIFY(ffmpeg({"-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=44100",
                        "-filter_complex",
                        "[0]pan=5.1|FL=c0|FR=0*c0|FC=0*c0|LFE=0*c0|BL=0*c0|BR=0*c0", file}));
        AudioInfo info;
        const AudioBuffer out = decodeAudio(file.toStdString(), 44100, 2, &info);
        QCOMPARE(info.channels, 6);
        QCOMPARE(out.channels, 2);
        QVERIFY(rms(out.channel(0), out.frames()) > 0.05);
        QVERIFY(rms(out.channel(1), out.frames()) < 1e-4);
    }

    void videoContainersGiveTheirAudio() {
        const QString file = path("clip.mp4");
        QVERIFY(ffmpeg({"-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2", "-f", "lavfi",
                        "-i", "sine=frequency=440:duration=2:sample_rate=48000", "-c:v", "mpeg4",
                        "-c:a", "aac", "-shortest", file}));
        AudioInfo info;
        const AudioBuffer out = decodeAudio(file.toStdString(), 44100, 2, &info);
        QCOMPARE(QString::fromStdString(info.codec), QString("aac"));
        QVERIFY(std::abs(out.seconds() - 2.0) < 0.1);
        QVERIFY(std::abs(frequency(out, 0) - 440.0) < 2);  // AAC's priming blurs the edges

        const QString silentVideo = path("novideo.mp4");
        QVERIFY(ffmpeg({"-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v",
                        "mpeg4", silentVideo}));
        QString msg;
        QCOMPARE(errorOf([&] { decodeAudio(silentVideo.toStdString()); }, &msg),
                 ErrorKind::NoAudio);
        QVERIFY2(msg.contains("no audio stream"), qPrintable(msg));
    }

    void tagsAreWrittenAndRead() {
        EncodeOptions opt;
        opt.tags = {{"title", "Blue Monday (drums)"},
                    {"artist", "New Order"},
                    {"album", "Power, Corruption & Lies"}};
        for (FileFormat f : {FileFormat::Flac, FileFormat::Mp3, FileFormat::Wav}) {
            opt.format = f;
            const QString file = path(QString("tagged%1.%2")
                                          .arg(int(f))
                                          .arg(f == FileFormat::Mp3    ? "mp3"
                                               : f == FileFormat::Flac ? "flac"
                                                                       : "wav"));
            encodeAudio(file.toStdString(), sines(44100, 0.5), opt);
            const AudioInfo info = probeAudio(file.toStdString());
            QCOMPARE(QString::fromStdString(info.tags.at("title")), QString("Blue Monday (drums)"));
            QCOMPARE(QString::fromStdString(info.tags.at("artist")), QString("New Order"));
        }
    }

    void realMp3() {
        const std::string file = MUSIC_SPLIT_MEDIA "/demucs-test.mp3";
        const AudioInfo info = probeAudio(file);
        QCOMPARE(QString::fromStdString(info.codec), QString("mp3"));
        QCOMPARE(info.sampleRate, 44100);
        QCOMPARE(info.channels, 2);
        int calls = 0;
        double last = 0;
        const AudioBuffer out = decodeAudio(file, 44100, 2, nullptr, [&](double f) {
            ++calls;
            last = f;
            return true;
        });
        QVERIFY(std::abs(out.seconds() - info.durationSeconds) < 0.1);
        QVERIFY(out.seconds() > 10);
        QVERIFY(calls > 1);
        QVERIFY(last > 0.95 && last <= 1.0);
        for (int c = 0; c < 2; ++c) {
            const double level = rms(out.channel(c), out.frames());
            QVERIFY2(level > 0.02 && level < 0.7, qPrintable(QString::number(level)));
        }
    }

    void decodeCanBeCancelled() {
        const std::string file = MUSIC_SPLIT_MEDIA "/demucs-test.mp3";
        int calls = 0;
        QCOMPARE(errorOf([&] {
                     decodeAudio(file, 44100, 2, nullptr, [&](double) { return ++calls < 3; });
                 }),
                 ErrorKind::Cancelled);
        QCOMPARE(calls, 3);
    }

    void badInputsGiveClearErrors() {
        QString msg;
        QCOMPARE(errorOf([&] { decodeAudio(path("missing.wav").toStdString()); }, &msg),
                 ErrorKind::NotFound);
        QVERIFY(msg.contains("missing.wav"));

        QFile empty(path("empty.mp3"));
        QVERIFY(empty.open(QIODevice::WriteOnly));
        empty.close();
        QCOMPARE(errorOf([&] { decodeAudio(empty.fileName().toStdString()); }, &msg),
                 ErrorKind::InvalidInput);
        QVERIFY2(msg.contains("empty"), qPrintable(msg));

        QFile text(path("notes.wav"));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write("these are my lyrics, not audio\n");
        text.close();
        QCOMPARE(errorOf([&] { decodeAudio(text.fileName().toStdString()); }, &msg),
                 ErrorKind::InvalidInput);

        QFile noise(path("noise.flac"));
        QVERIFY(noise.open(QIODevice::WriteOnly));
        QByteArray bytes(64 * 1024, '\0');
        quint32 x = 12345;
        for (char& b : bytes)
            b = char((x = x * 1664525u + 1013904223u) >> 24);
        noise.write(bytes);
        noise.close();
        const ErrorKind k = errorOf([&] { decodeAudio(noise.fileName().toStdString()); }, &msg);
        QVERIFY2(k == ErrorKind::InvalidInput || k == ErrorKind::NoAudio, qPrintable(msg));

        QCOMPARE(errorOf([&] { decodeAudio(tmp_.path().toStdString()); }, &msg),
                 ErrorKind::InvalidInput);
        QVERIFY(msg.contains("folder"));
    }

    void zeroLengthAndUnknownCodecs() {
        // A WAV with a header and no samples.
        const QString zero = path("zero.wav");
        QVERIFY(ffmpeg({"-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "0", zero}));
        QString msg;
        QCOMPARE(errorOf([&] { decodeAudio(zero.toStdString()); }, &msg), ErrorKind::NoAudio);
        QVERIFY2(msg.contains("no audio") || msg.contains("empty") || msg.contains("zero"),
                 qPrintable(msg));

        // A WAV whose format tag names a codec FFmpeg does not know.
        QByteArray wav("RIFF\x34\x00\x00\x00WAVEfmt \x10\x00\x00\x00", 20);
        const char fmt[] = {char(0x99), char(0x99), 2, 0, 0x44, char(0xac), 0,  0,
                            0x10,       char(0xb1), 2, 0, 4,    0,          16, 0};
        wav.append(fmt, sizeof fmt);
        wav.append("data\x10\x00\x00\x00", 8);
        wav.append(QByteArray(16, '\x01'));
        QFile f(path("strange.wav"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(wav);
        f.close();
        const ErrorKind k = errorOf([&] { decodeAudio(f.fileName().toStdString()); }, &msg);
        QVERIFY2(k == ErrorKind::Unsupported, qPrintable(msg));
    }

    void truncatedFileDecodesWhatIsThere() {
        EncodeOptions opt;
        opt.format = FileFormat::Flac;
        const QString file = encodedSines("cut.flac", opt, 4.0);
        QFile f(file);
        QVERIFY(f.resize(f.size() / 2));
        // Users get the readable part rather than nothing; never a crash or garbage length.
        const AudioBuffer out = decodeAudio(file.toStdString());
        QVERIFY2(out.seconds() > 1.0 && out.seconds() < 3.0,
                 qPrintable(QString::number(out.seconds())));
    }

    void clipModes() {
        AudioBuffer loud = sines(44100, 0.1, 2, 1.5);
        AudioBuffer a = loud;
        applyClipMode(a, ClipMode::Rescale);
        float peak = 0;
        for (float x : a.samples)
            peak = std::max(peak, std::abs(x));
        QVERIFY(std::abs(peak - 1 / 1.01f) < 1e-6);
        AudioBuffer b = loud;
        applyClipMode(b, ClipMode::Clamp);
        for (float x : b.samples)
            QVERIFY(std::abs(x) <= 0.99f);
        AudioBuffer quiet = sines(44100, 0.1);
        AudioBuffer c = quiet;
        applyClipMode(c, ClipMode::Rescale);
        QCOMPARE(maxDiff(c, quiet), 0.0);  // already quiet: untouched
    }

    void badAudioIsNotWritten() {
        AudioBuffer nan = sines(44100, 0.1);
        nan.samples[100] = NAN;
        QCOMPARE(errorOf([&] { encodeAudio(path("nan.wav").toStdString(), nan, {}); }),
                 ErrorKind::InvalidInput);
        QCOMPARE(errorOf([&] { encodeAudio(path("none.wav").toStdString(), AudioBuffer{}, {}); }),
                 ErrorKind::NoAudio);
        EncodeOptions flacFloat;
        flacFloat.format = FileFormat::Flac;
        flacFloat.depth = SampleFormat::Float32;
        QCOMPARE(errorOf([&] {
                     encodeAudio(path("f.flac").toStdString(), sines(44100, 0.1), flacFloat);
                 }),
                 ErrorKind::Unsupported);
        QVERIFY(!QFile::exists(path("nan.wav")) && !QFile::exists(path("f.flac")));
        QVERIFY(leftovers(tmp_.path()).isEmpty());
    }

    // A float WAV can carry NaN (a broken plug-in's render): refused when read, naming the file.
    void nonFiniteSamplesAreRefusedOnDecode() {
        EncodeOptions opt;
        opt.depth = SampleFormat::Float32;
        const QString file = encodedSines("broken-render.wav", opt, 0.5);
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadWrite));
        const qint64 data = f.readAll().indexOf("data");
        QVERIFY(data > 0);
        const float nan = NAN;
        QVERIFY(f.seek(data + 8 + 4 * 1000));
        QCOMPARE(f.write(reinterpret_cast<const char*>(&nan), 4), qint64(4));
        f.close();
        QString msg;
        QCOMPARE(errorOf([&] { decodeAudio(file.toStdString()); }, &msg), ErrorKind::InvalidInput);
        QVERIFY2(msg.contains("broken-render.wav") && msg.contains("NaN"), qPrintable(msg));
    }

    // A cancelled or failed write leaves the earlier file as it was and no temporary file.
    void writesAreAtomic() {
        const QString file = path("keep.wav");
        QFile old(file);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("the user's earlier export");
        old.close();
        EncodeOptions opt;
        QCOMPARE(errorOf([&] {
                     encodeAudio(file.toStdString(), sines(44100, 3.0), opt,
                                 [](double f) { return f < 0.5; });
                 }),
                 ErrorKind::Cancelled);
        QVERIFY(old.open(QIODevice::ReadOnly));
        QCOMPARE(old.readAll(), QByteArray("the user's earlier export"));
        old.close();
        QVERIFY(leftovers(tmp_.path()).isEmpty());

        QString msg;
        QCOMPARE(errorOf(
                     [&] {
                         encodeAudio(path("no/such/folder/x.wav").toStdString(), sines(44100, 0.1),
                                     opt);
                     },
                     &msg),
                 ErrorKind::Io);
        QVERIFY2(msg.contains("folder"), qPrintable(msg));
    }

    // A disk that fills up mid-write (a file-size limit stands in for it): an Io error, nothing
    // left.
    void fullDiskIsReported() {
        struct rlimit old {};
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit small = old;
        small.rlim_cur = 64 * 1024;
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
        QString msg;
        EncodeOptions opt;
        opt.depth = SampleFormat::Float32;
        const ErrorKind k = errorOf(
            [&] { encodeAudio(path("big.wav").toStdString(), sines(44100, 5.0), opt); }, &msg);
        setrlimit(RLIMIT_FSIZE, &old);
        QCOMPARE(k, ErrorKind::Io);
        qInfo("%s", qPrintable(msg));
        QVERIFY(!QFile::exists(path("big.wav")));
        QVERIFY(leftovers(tmp_.path()).isEmpty());
    }

    // Written block by block, every format gives the bytes of a file written from the whole.
    void streamedWritesEqualWholeFiles_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("depth");
        QTest::newRow("wav16") << int(FileFormat::Wav) << int(SampleFormat::Int16);
        QTest::newRow("wav24") << int(FileFormat::Wav) << int(SampleFormat::Int24);
        QTest::newRow("wav32f") << int(FileFormat::Wav) << int(SampleFormat::Float32);
        QTest::newRow("flac24") << int(FileFormat::Flac) << int(SampleFormat::Int24);
        QTest::newRow("mp3") << int(FileFormat::Mp3) << int(SampleFormat::Int16);
    }
    void streamedWritesEqualWholeFiles() {
        QFETCH(int, format);
        QFETCH(int, depth);
        EncodeOptions opt;
        opt.format = FileFormat(format);
        opt.depth = SampleFormat(depth);
        opt.clip = ClipMode::Clamp;
        opt.tags = {{"title", "streamed"}};
        const AudioBuffer audio = sines(44100, 3.3, 2, 1.2);  // clipped by the clamp
        const QString whole = path(QString("whole-%1").arg(QTest::currentDataTag()));
        encodeAudio(whole.toStdString(), audio, opt);
        const QString streamed = path(QString("streamed-%1").arg(QTest::currentDataTag()));
        {
            AudioWriter writer(streamed.toStdString(), 44100, 2, opt);
            std::vector<float> block;
            for (int64_t pos = 0, n = 1; pos < audio.frames(); pos += n, n = n * 3 % 9001 + 1) {
                n = std::min(n, audio.frames() - pos);
                block.resize(size_t(2 * n));
                for (int c = 0; c < 2; ++c)
                    std::copy_n(audio.channel(c) + pos, n, block.data() + c * n);
                writer.write(block.data(), n);
                QVERIFY(!QFile::exists(streamed));  // nothing under the final name until commit
            }
            writer.commit();
        }
        QFile a(whole), b(streamed);
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QVERIFY(a.size() > 1000);
        QVERIFY(a.readAll() == b.readAll());
        QVERIFY(leftovers(tmp_.path()).isEmpty());
    }

    void aWriterWithoutCommitLeavesNothing() {
        QTemporaryDir dir;
        {
            AudioWriter writer(
                dir.filePath("stem.flac").toStdString(), 44100, 2,
                EncodeOptions{FileFormat::Flac, SampleFormat::Int24, 320, ClipMode::None, {}});
            const AudioBuffer audio = sines(44100, 0.5);
            writer.write(audio.samples.data(), audio.frames());
        }
        QVERIFY(QDir(dir.path())
                    .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot)
                    .isEmpty());
        // Rescaling needs the whole: the streamed writer refuses it.
        QCOMPARE(errorOf([&] {
                     AudioWriter(dir.filePath("x.wav").toStdString(), 44100, 2, EncodeOptions{});
                 }),
                 ErrorKind::Internal);
    }

    // Read block by block, a file gives what decodeAudio gives, resampled and up-mixed alike.
    void readerBlocksEqualTheWholeDecode() {
        EncodeOptions opt;
        opt.format = FileFormat::Flac;
        opt.depth = SampleFormat::Int24;
        AudioBuffer mono = sines(48000, 2.7, 1);
        const QString file = path("mono48k.flac");
        encodeAudio(file.toStdString(), mono, opt);
        const AudioBuffer whole = decodeAudio(file.toStdString(), 44100, 2);
        AudioReader reader(file.toStdString(), 44100, 2);
        QCOMPARE(reader.info().sampleRate, 48000);
        std::vector<std::vector<float>> planes(2);
        std::vector<float> block;
        for (int64_t max = 1;; max = max * 7 % 20011 + 1) {
            block.resize(size_t(2 * max));
            const int64_t n = reader.read(block.data(), max);
            if (n == 0) break;
            for (int c = 0; c < 2; ++c)
                planes[size_t(c)].insert(planes[size_t(c)].end(), block.begin() + c * n,
                                         block.begin() + (c + 1) * n);
        }
        QCOMPARE(reader.framesRead(), whole.frames());
        QCOMPARE(reader.progress(), 1.0);
        QVERIFY(std::equal(planes[0].begin(), planes[0].end(), whole.channel(0)));
        QVERIFY(std::equal(planes[1].begin(), planes[1].end(), whole.channel(1)));
        QCOMPARE(reader.read(block.data(), 100), int64_t(0));  // and stays at the end
    }

    // A seek lands on the exact frame in WAV and FLAC, anywhere (the start, the middle, the last
    // frame, past the end), after reading to the end too.
    void seeksLandOnTheExactFrame_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("flac") << "seek.flac";
        QTest::newRow("wav") << "seek.wav";
    }
    void seeksLandOnTheExactFrame() {
        QFETCH(QString, name);
        EncodeOptions opt;
        opt.format = name.endsWith("flac") ? FileFormat::Flac : FileFormat::Wav;
        opt.depth = SampleFormat::Int24;
        const QString file = path(name);
        encodeAudio(file.toStdString(), sines(44100, 7.0), opt);
        const AudioBuffer whole = decodeAudio(file.toStdString());
        const int64_t n = whole.frames();
        AudioReader reader(file.toStdString());
        QCOMPARE(reader.lengthEstimate(), n);
        std::vector<float> block(2 * 3000);
        while (reader.read(block.data(), 3000) > 0) {
        }
        for (int64_t at : {n - 9000, int64_t(0), int64_t(123457), n - 4001, n - 1, n / 2 + 17,
                           int64_t(4608), n - 3000}) {
            try {
                reader.seek(at);
            } catch (const Error& e) {
                QFAIL(qPrintable(QString("seek to %1: %2").arg(at).arg(e.what())));
            }
            int64_t got = 0;
            while (got < 3000) {
                const int64_t k = reader.read(block.data(), 3000 - got);
                if (k == 0) break;
                for (int64_t i = 0; i < k; ++i)
                    QVERIFY2(block[size_t(i)] == whole.channel(0)[at + got + i] &&
                                 block[size_t(k + i)] == whole.channel(1)[at + got + i],
                             qPrintable(QString("seek to %1: frame %2").arg(at).arg(got + i)));
                got += k;
            }
            QCOMPARE(got, std::min<int64_t>(3000, n - at));
            QCOMPARE(reader.framesRead(), at + got);
        }
        reader.seek(n + 10);
        QCOMPARE(reader.read(block.data(), 100), int64_t(0));
    }

    // Written files get the permissions of any new file under the umask in force when they are
    // made (the process's umask is read by the kernel, never changed by the writer).
    void newFilesFollowTheUmask() {
        const mode_t before = umask(022);
        const auto write = [&](const QString& name) {
            AtomicFile f(path(name).toStdString());
            f.commit();
            return QFileInfo(path(name)).permissions();
        };
        const auto world = QFileDevice::ReadOther;
        QVERIFY(write("umask-022") & world);
        umask(077);
        QVERIFY(!(write("umask-077") & world));
        QVERIFY(!(write("umask-077") & QFileDevice::ReadGroup));
        QCOMPARE(umask(before), mode_t(077));  // left as it was set
    }

    // A spool gives back what it was given, knows the peak, and is invisible on disk.
    void spoolReplaysWhatItHeld() {
        QTemporaryDir dir;
        FloatSpool spool(dir.path().toStdString(), 2);
        QVERIFY(QDir(dir.path())
                    .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot)
                    .isEmpty());
        std::vector<float> a{0.1f, 0.2f, -0.9f, 0.4f}, b{0.5f, -0.25f};
        spool.append(a.data(), 2);
        spool.append(b.data(), 1);
        QCOMPARE(spool.frames(), int64_t(3));
        QCOMPARE(spool.peak(), 0.9f);
        std::vector<float> back;
        spool.replay([&](const float* block, int64_t n) {
            for (int64_t i = 0; i < n; ++i)  // planar blocks: back to frames
                back.insert(back.end(), {block[i], block[n + i]});
        });
        QCOMPARE(back, (std::vector<float>{0.1f, -0.9f, 0.2f, 0.4f, 0.5f, -0.25f}));
        // Any frame can be read, interleaved; reads stop at what is written.
        std::vector<float> two(4, 7.0f);
        QCOMPARE(spool.readAt(1, two.data(), 2), int64_t(2));
        QCOMPARE(two, (std::vector<float>{0.2f, 0.4f, 0.5f, -0.25f}));
        QCOMPARE(spool.readAt(2, two.data(), 2), int64_t(1));
        QCOMPARE(spool.readAt(3, two.data(), 2), int64_t(0));
        QCOMPARE(errorOf([] { FloatSpool("/nonexistent/folder", 2); }), ErrorKind::Io);
    }
};

QTEST_GUILESS_MAIN(TestAudio)
#include "test_audio.moc"
