// kill -9 of the app while it exports: the export dialog's real code runs in a child process (this
// test program started again with MUSIC_SPLIT_EXPORT_CHILD set) and is killed half-way. Every file
// under a final name is then either the one it was to replace, untouched, or complete.
#include <QApplication>
#include <QDir>
#include <QDirIterator>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/jobs/library.h"
#include "tests/common/isolated_app.h"
#include "ui/export_dialog.h"

using namespace msplit;

namespace {

constexpr int kRate = 44100;
constexpr int64_t kFrames = int64_t(kRate) * 240;  // 4 minutes a stem
const QByteArray kOld = "the export made yesterday";

JobRecord record(const QString& folder) {
    JobRecord r;
    r.folder = folder;
    r.title = "Long";
    r.model = "htdemucs";
    r.stems = {"drums", "bass", "other", "vocals"};
    r.extension = "wav";
    return r;
}

// The child: exports the record in `folder` to `destination` as 24-bit FLAC, replacing files.
int exportChild(int argc, char** argv) {
    QApplication app(argc, argv);
    const QStringList where = qEnvironmentVariable("MUSIC_SPLIT_EXPORT_CHILD").split('\n');
    ui::ExportDialog d(record(where.value(0)));
    d.assumeOverwrite = true;
    d.setDestination(where.value(1));
    d.setFormat("flac24");
    QString error;
    const QStringList written = d.runExport(&error);
    return written.isEmpty() ? 1 : 0;
}

}  // namespace

class TestExportKill : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedMidExportLeavesOnlyWholeFiles() {
        QTemporaryDir stems, out;
        AudioBuffer noise;
        noise.samples.resize(size_t(kFrames) * 2);
        for (size_t i = 0; i < noise.samples.size(); ++i)
            noise.samples[i] = float(0.3 * std::sin(double(i) * 0.01) * std::cos(double(i) * 1e-5));
        EncodeOptions wav;
        wav.depth = SampleFormat::Float32;
        wav.clip = ClipMode::None;
        for (const QString& stem : record(stems.path()).stems)
            encodeAudio(stems.filePath(stem + ".wav").toStdString(), noise, wav);
        // Yesterday's export of every stem, to be replaced.
        const QString track = out.filePath("Long");
        QVERIFY(QDir().mkpath(track));
        for (const QString& stem : record(stems.path()).stems) {
            QFile f(track + "/" + stem + ".flac");
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(kOld);
        }

        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("MUSIC_SPLIT_EXPORT_CHILD", stems.path() + "\n" + out.path());
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child.waitForStarted());
        // Writing has begun: a hidden temporary file beside the files it replaces.
        const auto parts = [&] {
            return QDir(track).entryList({".*.part"}, QDir::Files | QDir::Hidden);
        };
        QTRY_VERIFY_WITH_TIMEOUT(!parts().isEmpty(), 60000);
        QTest::qWait(300);
        QCOMPARE(child.state(), QProcess::Running);
        child.kill();  // SIGKILL: no chance to tidy up
        QVERIFY(child.waitForFinished(10000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        QVERIFY(!parts().isEmpty());  // it was killed while writing

        int old = 0, whole = 0;
        for (const QString& stem : record(stems.path()).stems) {
            const QString path = track + "/" + stem + ".flac";
            QFile f(path);
            QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
            if (f.readAll() == kOld) {
                ++old;
                continue;
            }
            const AudioBuffer got = decodeAudio(path.toStdString(), kRate, 2);
            QCOMPARE(got.frames(), kFrames);  // replaced only once complete
            ++whole;
        }
        QVERIFY(old >= 1);
        qInfo() << whole << "stems were exported whole before the kill," << old
                << "left as they were";
    }
};

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsSet("MUSIC_SPLIT_EXPORT_CHILD")) return exportChild(argc, argv);
    return msplit::test::isolatedMain<TestExportKill, QApplication>(argc, argv);
}

#include "test_export_kill.moc"
