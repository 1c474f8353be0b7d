// kill -9 of the app while it separates or exports: the app's own code (its job queue writing into
// the library, the export dialog) runs in a child process, this test program started again with
// MUSIC_SPLIT_CHILD set, and is killed half-way. Nothing is then left under a final name that is
// not complete, and the library reads cleanly.
#include <QApplication>
#include <QDir>
#include <QDirIterator>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/jobs/job_queue.h"
#include "core/jobs/library.h"
#include "tests/common/fixtures.h"
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

// Runs this program as a child doing `what` (see child()).
void startChild(QProcess& p, const QString& what) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MUSIC_SPLIT_CHILD", what);
    p.setProcessEnvironment(env);
    p.start(QCoreApplication::applicationFilePath(), {});
}

// The child: "export\nFOLDER\nDESTINATION" exports the record in FOLDER as 24-bit FLAC, replacing
// files; "separate\nSONG\nLIBRARY" separates SONG into the library as the app's queue does.
int child(int argc, char** argv) {
    QApplication app(argc, argv);
    const QStringList what = qEnvironmentVariable("MUSIC_SPLIT_CHILD").split('\n');
    if (what.value(0) == "separate") {
        JobConfig c;
        c.separation.model = "htdemucs_tiny";
        c.separation.repo = test::repoDir().toStdString();
        c.separation.device = "cpu";
        c.separation.options.shifts = 0;
        c.libraryRoot = what.value(2);
        JobQueue queue;
        queue.setConfig(c);
        const int id = queue.enqueue(what.value(1));
        const bool ended = QTest::qWaitFor(
            [&] {
                return queue.item(id)->state != JobQueue::State::Queued &&
                       queue.item(id)->state != JobQueue::State::Running;
            },
            600000);
        return ended ? 0 : 1;
    }
    const QStringList where = what.mid(1);
    ui::ExportDialog d(record(where.value(0)));
    d.assumeOverwrite = true;
    d.setDestination(where.value(1));
    d.setFormat("flac24");
    QString error;
    const QStringList written = d.runExport(&error);
    return written.isEmpty() ? 1 : 0;
}

}  // namespace

class TestAppKilled : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // The library's folder for a song is written hidden (.NAME.tmp) and renamed when complete:
    // killed half-way, the library lists nothing for it and the stray goes when it is cleaned.
    void killedMidSeparationLeavesTheLibraryClean() {
        QTemporaryDir work;
        const QString song = work.filePath("long.wav");
        QCOMPARE(QProcess::execute("ffmpeg", {"-v", "error", "-y", "-stream_loop", "11", "-i",
                                              test::caseDir("htdemucs_tiny") + "/input.wav", song}),
                 0);
        const QString root = work.filePath("library");
        QProcess child;
        startChild(child, "separate\n" + song + "\n" + root);
        QVERIFY(child.waitForStarted());
        const auto strays = [&] {
            return QDir(root).entryList(QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot);
        };
        QTRY_VERIFY_WITH_TIMEOUT(!strays().isEmpty(), 60000);
        QTest::qWait(3000);  // a few segments in
        QCOMPARE(child.state(), QProcess::Running);
        child.kill();
        QVERIFY(child.waitForFinished(10000));
        const QStringList left = strays();
        QCOMPARE(left.size(), 1);
        QVERIFY2(left.first().startsWith('.') && left.first().endsWith(".tmp"),
                 qPrintable(left.first()));
        const Library library(root);
        QCOMPARE(library.load().size(), 0);
        QCOMPARE(library.removeStrays(0), 1);
        QCOMPARE(strays(), QStringList());
    }

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
        startChild(child, "export\n" + stems.path() + "\n" + out.path());
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
    if (qEnvironmentVariableIsSet("MUSIC_SPLIT_CHILD")) return child(argc, argv);
    return msplit::test::isolatedMain<TestAppKilled, QApplication>(argc, argv);
}

#include "test_app_killed.moc"
