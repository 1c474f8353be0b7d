// The client against a stand-in for the hosted service's own server (hosted_standin.py answers as
// its public FastAPI code does): `result` values are file paths on that server, stems are WAV and
// come from its download_template. RemoteJob and `music-split-cli separate --remote` must fetch
// them from the template, never from the paths, and keep them as the WAV they are.
#include <QDirIterator>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;

namespace {

class StandIn {
public:
    bool start() {
        process_.start("python3", {QString(MUSIC_SPLIT_TEST_DATA) + "/remote/hosted_standin.py"});
        QDeadlineTimer deadline(20000);
        static const QRegularExpression listening("listening on (http://\\S+)");
        while (!deadline.hasExpired() && process_.state() != QProcess::NotRunning) {
            process_.waitForReadyRead(100);
            out_ += process_.readAllStandardOutput();
            if (const auto m = listening.match(QString::fromUtf8(out_)); m.hasMatch()) {
                url_ = QUrl(m.captured(1));
                return true;
            }
        }
        return false;
    }
    QStringList requests() {  // "METHOD PATH", in order
        process_.waitForReadyRead(200);
        out_ += process_.readAllStandardOutput();
        return QString::fromUtf8(out_).split('\n', Qt::SkipEmptyParts).mid(1);
    }
    const QUrl& url() const { return url_; }
    ~StandIn() {
        process_.kill();
        process_.waitForFinished(5000);
    }

private:
    QProcess process_;
    QByteArray out_;
    QUrl url_;
};

const QStringList kStems = {"drums", "bass", "other", "vocals", "guitar", "piano"};

}  // namespace

class TestHostedService : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void remoteJobFetchesFromTheTemplate() {
        StandIn server;
        QVERIFY(server.start());
        QTemporaryDir tmp;
        const QString song = shortSong(tmp.path(), 1);
        RemoteConfig c;
        c.server = server.url();
        c.pollMinMs = 20;
        c.pollMaxMs = 50;
        const JobOutcome o = runRemote(c, song, "htdemucs_6s", tmp.path());
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(o.stems, kStems);  // no "stems" list there: Demucs' order
        const AudioBuffer sent = decodeAudio(song.toStdString(), 44100, 2);
        for (int i = 0; i < o.files.size(); ++i) {
            QCOMPARE(o.files[i], tmp.path() + "/" + kStems[i] + ".wav");  // named for what it is
            QCOMPARE(decodeAudio(o.files[i].toStdString(), 44100, 2).samples, sent.samples);
        }
        const QStringList log = server.requests();
        for (const QString& stem : kStems)
            QVERIFY2(std::any_of(log.begin(), log.end(),
                                 [&](const QString& r) {
                                     return r.startsWith("GET /download/status/") &&
                                            r.endsWith("/" + stem);
                                 }),
                     qPrintable(log.join('\n')));
        for (const QString& r : log)
            QVERIFY2(!r.contains("/tmp/"), qPrintable(r));  // a server path is not an address
        QVERIFY(log.last().startsWith("DELETE /cleanup/tmp"));
    }

    void unknownModelInItsWords() {
        StandIn server;
        QVERIFY(server.start());
        QTemporaryDir tmp;
        RemoteConfig c;
        c.server = server.url();
        const JobOutcome o = runRemote(c, shortSong(tmp.path(), 1), "htdemucs", tmp.path());
        QVERIFY2(o.error.contains("non disponible"), qPrintable(o.error));
    }

    void cliSeparatesRemotely() {
        StandIn server;
        QVERIFY(server.start());
        QTemporaryDir tmp;
        const QString song = shortSong(tmp.path(), 1);
        QProcess cli;
        cli.start(MUSIC_SPLIT_CLI, {"separate", "--remote", server.url().toString(), "-n",
                                    "htdemucs_6s", "-o", tmp.path() + "/out", song});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        QStringList written;
        for (QDirIterator it(tmp.path() + "/out", QDir::Files, QDirIterator::Subdirectories);
             it.hasNext();)
            written << QFileInfo(it.next()).completeBaseName();
        written.sort();
        QStringList expected = kStems;
        expected.sort();
        QCOMPARE(written, expected);
    }
};

QTEST_GUILESS_MAIN(TestHostedService)
#include "test_hosted_service.moc"
