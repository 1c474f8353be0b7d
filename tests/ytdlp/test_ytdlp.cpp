// The yt-dlp runner: Debian's real yt-dlp downloading a direct media URL from a server on
// 127.0.0.1 (its generic extractor), then the file decoded and separated; 404 and refused
// connections; scripted stand-ins that hang, print garbage, fail, or get cancelled mid-download.
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/audio/decoder.h"
#include "core/ytdlp/ytdlp_runner.h"
#include "tests/common/file_server.h"
#include "tests/common/fixtures.h"

using namespace msplit;

namespace {

struct Result {
    QStringList files;
    QString error;
    QList<YtDlpProgress> progress;
    QString title;
};

Result run(YtDlpRunner& r, const QString& url, const QString& dest, const YtDlpOptions& o = {}) {
    Result res;
    QObject::connect(&r, &YtDlpRunner::progress,
                     [&](const YtDlpProgress& p) { res.progress << p; });
    QObject::connect(&r, &YtDlpRunner::info, [&](const QString& t, double) { res.title = t; });
    QSignalSpy done(&r, &YtDlpRunner::finished);
    r.start(url, dest, o);
    if (done.isEmpty()) done.wait(60000);
    if (done.isEmpty()) return {{}, "test timed out", {}, {}};
    res.files = done[0][0].toStringList();
    res.error = done[0][1].toString();
    return res;
}

// A stand-in for yt-dlp: a shell script with `body`, made executable.
QString script(const QTemporaryDir& dir, const QString& name, const QString& body) {
    const QString path = dir.filePath(name);
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(("#!/bin/sh\n" + body + "\n").toUtf8());
    f.close();
    f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    return path;
}

QStringList visibleAndHidden(const QString& dir) {
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
}

}  // namespace

class TestYtDlp : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void realYtDlpDownloadsAndSeparates() {
        QString why;
        if (YtDlpRunner::findProgram({}, &why).isEmpty())
            QFAIL(qPrintable(why));  // the set-up installs it
        test::FileServer server(MUSIC_SPLIT_MEDIA);
        QTemporaryDir dest;
        YtDlpRunner r;
        const Result res = run(r, server.baseUrl() + "demucs-test.mp3", dest.path());
        QVERIFY2(res.error.isEmpty(), qPrintable(res.error));
        QCOMPARE(res.files.size(), 1);
        QCOMPARE(res.title, QString("demucs-test"));
        QVERIFY(!res.progress.isEmpty());
        QCOMPARE(res.progress.last().fraction, 1.0);
        QCOMPARE(QFileInfo(res.files[0]).size(),
                 QFileInfo(QString(MUSIC_SPLIT_MEDIA) + "/demucs-test.mp3").size());
        QCOMPARE(visibleAndHidden(dest.path()).size(), 1);  // no temporary folder left
        QVERIFY(probeAudio(res.files[0].toStdString()).durationSeconds > 10);

        // The CLI takes the URL itself: download, then separate with a fixture model.
        QTemporaryDir out;
        QProcess cli;
        cli.start(MUSIC_SPLIT_CLI,
                  {"separate", server.baseUrl() + "demucs-test.mp3", "--repo", test::repoDir(),
                   "-n", "htdemucs_tiny", "--shifts", "0", "-o", out.path()});
        while (cli.state() != QProcess::NotRunning)
            QTest::qWait(50);  // the server needs the loop
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const QString stem = out.path() + "/htdemucs_tiny/demucs-test [demucs-test]/vocals.wav";
        QVERIFY2(QFile::exists(stem),
                 qPrintable(QDir(out.path() + "/htdemucs_tiny").entryList().join(",")));
        QVERIFY(decodeAudio(stem.toStdString()).seconds() > 10);
    }

    void notFoundAndRefused() {
        test::FileServer server(MUSIC_SPLIT_MEDIA);
        QTemporaryDir dest;
        YtDlpRunner r;
        Result res = run(r, server.baseUrl() + "missing.mp3", dest.path());
        QVERIFY2(res.error.contains("404"), qPrintable(res.error));
        YtDlpRunner r2;
        res = run(r2, QString("http://127.0.0.1:%1/song.mp3").arg(test::closedPort()), dest.path());
        QVERIFY2(res.error.contains("Cannot reach"), qPrintable(res.error));
        QVERIFY(visibleAndHidden(dest.path()).isEmpty());
        YtDlpRunner r3;
        res = run(r3, "not a url", dest.path());
        QVERIFY(res.error.contains("Not a web address"));
    }

    void standInsThatMisbehave() {
        QTemporaryDir bin, dest;
        YtDlpOptions o;
        o.stallSeconds = 1;
        o.program = script(bin, "hang", "sleep 30");
        YtDlpRunner hang;
        QElapsedTimer t;
        t.start();
        Result res = run(hang, "http://127.0.0.1:9/x", dest.path(), o);
        QVERIFY2(res.error.contains("stopped responding"), qPrintable(res.error));
        QVERIFY(t.elapsed() < 10000);

        o.program =
            script(bin, "garbage", "echo 'qwertz\\000\\377 [progress] nonsense|x|y'; exit 0");
        YtDlpRunner garbage;
        res = run(garbage, "http://127.0.0.1:9/x", dest.path(), o);
        QVERIFY2(res.error.contains("without producing a file"), qPrintable(res.error));

        o.program =
            script(bin, "fails",
                   "echo 'ERROR: [generic] Unable to download webpage: Private video' >&2; exit 1");
        YtDlpRunner fails;
        res = run(fails, "http://127.0.0.1:9/x", dest.path(), o);
        QVERIFY2(res.error.contains("private"), qPrintable(res.error));

        o.program = bin.filePath("no-such-yt-dlp");
        YtDlpRunner missing;
        res = run(missing, "http://127.0.0.1:9/x", dest.path(), o);
        QVERIFY2(res.error.contains("apt install yt-dlp"), qPrintable(res.error));
        QVERIFY(visibleAndHidden(dest.path()).isEmpty());
    }

    void cancelRemovesPartialFiles() {
        QTemporaryDir bin, dest;
        YtDlpOptions o;
        // Writes part of a file where -o points, reports progress, then keeps "downloading".
        o.program = script(
            bin, "slow",
            "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=\"$2\"; shift; done\n"
            "d=$(dirname \"$out\"); head -c 100000 /dev/zero > \"$d/song.webm.part\"\n"
            "sleep 30 & echo $! > " +
                bin.filePath("child") +
                "\n"  // as its ffmpeg would
                "echo '[info] 212|A song'; echo '[progress]  12.5%|1.00MiB/s|00:07'; sleep 30");
        YtDlpRunner r;
        QSignalSpy progress(&r, &YtDlpRunner::progress);
        QSignalSpy done(&r, &YtDlpRunner::finished);
        r.start("http://127.0.0.1:9/x", dest.path(), o);
        QVERIFY(progress.wait(10000));
        QCOMPARE(progress[0][0].value<YtDlpProgress>().fraction, 0.125);
        QCOMPARE(progress[0][0].value<YtDlpProgress>().etaSeconds, 7.0);
        QCOMPARE(visibleAndHidden(dest.path()).size(), 1);  // the hidden work folder, with the part
        const auto childPid = [&] {
            QFile f(bin.filePath("child"));
            return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed()
                                               : QString();
        };
        QTRY_VERIFY(!childPid().isEmpty());
        const QString child = "/proc/" + childPid();
        QVERIFY(QFile::exists(child + "/stat"));
        r.cancel();  // says so at once; the files go when yt-dlp and its children are gone
        QCOMPARE(done.size(), 1);
        QCOMPARE(done[0][1].toString(), QString("Cancelled"));
        QTRY_VERIFY2(visibleAndHidden(dest.path()).isEmpty(),
                     qPrintable(visibleAndHidden(dest.path()).join(",")));
        const auto alive = [&] {  // a zombie waiting for init to reap it is dead too
            QFile stat(child + "/stat");
            return stat.open(QIODevice::ReadOnly) && !stat.readAll().contains(") Z ");
        };
        QTRY_VERIFY(!alive());  // what yt-dlp started is stopped with it
    }
};

QTEST_GUILESS_MAIN(TestYtDlp)
#include "test_ytdlp.moc"
