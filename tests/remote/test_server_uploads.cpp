// Uploads to music-split-server over real sockets on 127.0.0.1: limits answered from the request
// head before the body comes, bodies written to disk as they arrive (the server's memory does not
// grow with them), nothing left behind by uploads cut short or a full disk, and --max-duration
// held on the decoded samples.
#include <QDir>
#include <QFile>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;

namespace {

// Sends `bytes` on a fresh connection (or `socket`) and returns what the server answers within
// `ms` (until it closes the connection or the time is up).
QByteArray exchange(QTcpSocket& socket, const QByteArray& bytes, int ms = 5000) {
    socket.write(bytes);
    QByteArray got;
    QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired() && socket.state() == QAbstractSocket::ConnectedState) {
        socket.waitForReadyRead(50);
        got += socket.readAll();
        if (got.contains("\r\n\r\n") && got.endsWith('}')) break;
    }
    return got + socket.readAll();
}

QByteArray uploadHead(qint64 length, const QByteArray& extra = {}) {
    return "POST /separate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
           "boundary=b\r\nContent-Length: " +
           QByteArray::number(length) + "\r\n" + extra + "\r\n";
}

// The most memory the process has held (VmHWM), in bytes; -1 when it cannot be read.
qint64 peakMemory(qint64 pid) {
    QFile f(QString("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ')[0].toLongLong() * 1024;
    return -1;
}

// Sends a multipart upload of a 16-bit stereo WAV of `dataBytes` zero bytes, written in pieces so
// the test does not hold it either; returns the server's answer.
QByteArray uploadLongWav(QTcpSocket& s, qint64 dataBytes, const QByteArray& model) {
    QByteArray wav = "RIFF" + QByteArray(4, 0) + "WAVEfmt ";
    const auto le = [](quint32 v, int n) {
        QByteArray b;
        for (int i = 0; i < n; ++i)
            b += char((v >> (8 * i)) & 0xff);
        return b;
    };
    wav = "RIFF" + le(quint32(36 + dataBytes), 4) + "WAVEfmt " + le(16, 4) + le(1, 2) + le(2, 2) +
          le(44100, 4) + le(44100 * 4, 4) + le(4, 2) + le(16, 2) + "data" +
          le(quint32(dataBytes), 4);
    const QByteArray before =
        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"long.wav\"\r\n"
        "Content-Type: audio/wav\r\n\r\n" +
        wav;
    const QByteArray after =
        "\r\n--b\r\nContent-Disposition: form-data; name=\"model_name\"\r\n\r\n" + model +
        "\r\n--b--\r\n";
    s.write(uploadHead(before.size() + dataBytes + after.size()) + before);
    const QByteArray zeros(1 << 20, 0);
    for (qint64 sent = 0; sent < dataBytes; sent += zeros.size()) {
        s.write(zeros.left(int(std::min<qint64>(zeros.size(), dataBytes - sent))));
        if (s.bytesToWrite() > 8 * zeros.size()) s.waitForBytesWritten(5000);
    }
    return exchange(s, after, 60000);
}

bool spoolIsEmpty(const QString& jobsDir) {
    return QDir(jobsDir + "/.spool").entryList(QDir::Files | QDir::Hidden).isEmpty();
}

}  // namespace

class TestServerUploads : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(QFile::exists(repoDir()), "the shared Demucs fixtures are missing");
    }

    // The gate answers from the request head, before the body is sent, and bounds what Qt's
    // server would otherwise hold in memory without limit.
    void uploadsAreBoundedBeforeTheirBody() {
        QTemporaryDir jobs;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--max-upload-mb", "4"}));
        const quint16 port = quint16(server.url().port());
        auto connectTo = [&](QTcpSocket& s) {
            s.connectToHost(QHostAddress::LocalHost, port);
            return s.waitForConnected(5000);
        };
        {  // 5 MB declared: 413 with no byte of the body sent
            QTcpSocket s;
            QVERIFY(connectTo(s));
            const QByteArray r = exchange(s, uploadHead(5'000'000));
            QVERIFY2(r.startsWith("HTTP/1.1 413"), r.constData());
            QVERIFY(r.contains("at most 4 MB"));
        }
        {  // an upload that does not say its length is refused before its body (411)
            QTcpSocket s;
            QVERIFY(connectTo(s));
            const QByteArray r = exchange(
                s,
                "POST /separate HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n\r\n");
            QVERIFY2(r.startsWith("HTTP/1.1 411"), r.constData());
        }
        {  // both lengths at once could be read two ways: refused
            QTcpSocket s;
            QVERIFY(connectTo(s));
            const QByteArray r = exchange(s, uploadHead(10, "Transfer-Encoding: chunked\r\n"));
            QVERIFY2(r.startsWith("HTTP/1.1 400"), r.constData());
        }
        {  // a head without end
            QTcpSocket s;
            QVERIFY(connectTo(s));
            const QByteArray r =
                exchange(s, "GET /health HTTP/1.1\r\nX: " + QByteArray(70000, 'a'));
            QVERIFY2(r.startsWith("HTTP/1.1 431"), r.constData());
        }
        {  // a JSON route takes 1 MB at most
            QTcpSocket s;
            QVERIFY(connectTo(s));
            const QByteArray r = exchange(
                s, "POST /mix HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n");
            QVERIFY2(r.startsWith("HTTP/1.1 413"), r.constData());
        }
        {  // a later upload on a kept-alive connection: refused from its head too
            QTcpSocket s;
            QVERIFY(connectTo(s));
            QVERIFY(exchange(s, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .startsWith("HTTP/1.1 200"));
            s.write(uploadHead(9'000'000));
            QByteArray r;
            for (int i = 0; i < 9 && !r.contains("\r\n\r\n"); ++i) {
                s.write(QByteArray(1'000'000, 'x'));
                s.waitForBytesWritten(5000);
                s.waitForReadyRead(200);
                r += s.readAll();
            }
            r += exchange(s, {});
            QVERIFY2(r.startsWith("HTTP/1.1 413"), r.constData());
        }
        {  // four uploads nearly whole at once fill the server's share: the fifth waits (503)
            std::vector<std::unique_ptr<QTcpSocket>> held;
            for (int i = 0; i < 4; ++i) {
                held.push_back(std::make_unique<QTcpSocket>());
                QVERIFY(connectTo(*held.back()));
                held.back()->write(uploadHead(4'000'000) + QByteArray(3'900'000, 'x'));
                QVERIFY(held.back()->waitForBytesWritten(5000));
            }
            QTest::qWait(300);
            QTcpSocket s;
            QVERIFY(connectTo(s));
            const QByteArray r = exchange(s, uploadHead(4'000'000));
            QVERIFY2(r.startsWith("HTTP/1.1 503"), r.constData());
            QVERIFY(r.contains("Retry-After:"));
            held.clear();  // those clients go away: the server takes uploads again
            QTest::qWait(300);
            QTcpSocket again;
            QVERIFY(connectTo(again));
            QVERIFY(exchange(again, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .startsWith("HTTP/1.1 200"));
        }
        const QByteArray metrics = http("GET", server.url("/metrics")).body;
        QVERIFY2(metrics.contains(R"(music_split_requests_total{route="/separate",code="413"} 2)"),
                 metrics.constData());
        QVERIFY(metrics.contains(R"(music_split_requests_total{route="/separate",code="503"} 1)"));
        QVERIFY(metrics.contains(R"(music_split_requests_total{route="other",code="431"} 1)"));
        QVERIFY(metrics.contains(R"(music_split_requests_total{route="/mix",code="413"} 1)"));
        QVERIFY(metrics.contains(R"(music_split_requests_total{route="/separate",code="411"} 1)"));
    }

    // A 300 MB upload goes to disk as it arrives: the server's peak memory grows by a fraction of
    // it (Qt's server alone would hold it whole, and the parser copies of it before).
    void uploadsGoToDiskNotMemory() {
        QTemporaryDir jobs;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--max-upload-mb", "400"}));
        const qint64 before = peakMemory(server.pid());
        QVERIFY(before > 0);
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(server.url().port()));
        QVERIFY(s.waitForConnected(5000));
        // 28 minutes of silence: taken whole, then refused as longer than --max-duration.
        const qint64 bytes = 300'000'000;
        const QByteArray r = uploadLongWav(s, bytes, "htdemucs_tiny");
        QVERIFY2(r.startsWith("HTTP/1.1 413"), r.left(300).constData());
        QVERIFY2(r.contains("audio too long"), r.constData());
        QVERIFY(r.toLower().contains("x-request-id: "));  // Qt 6.8 gives header names in lower case
        const qint64 grown = peakMemory(server.pid()) - before;
        qInfo() << "peak memory grew by" << grown / 1e6 << "MB for a" << bytes / 1e6 << "MB upload";
        QVERIFY2(grown < 64'000'000, qPrintable(QString::number(grown)));
        QVERIFY(spoolIsEmpty(jobs.path()));
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot), QStringList());
    }

    // An upload after another request on the same kept-alive connection (as QNetworkAccessManager
    // and Python's requests do) is spooled too; Expect: 100-continue is answered.
    void uploadOnAKeptAliveConnection() {
        QTemporaryDir jobs, tmp;
        ServerProcess server;
        QVERIFY(server.start(jobs.path()));
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(server.url().port()));
        QVERIFY(s.waitForConnected(5000));
        QVERIFY(exchange(s, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .startsWith("HTTP/1.1 200"));
        QByteArray type;
        const QByteArray body = formBody(readAll(shortSong(tmp.path(), 1)), "htdemucs_tiny", &type);
        s.write("POST /separate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type +
                "\r\nContent-Length: " + QByteArray::number(body.size()) +
                "\r\nExpect: 100-continue\r\nX-Request-ID: kept-alive-1\r\n\r\n");
        QByteArray got;
        for (int i = 0; i < 50 && !got.contains("\r\n\r\n"); ++i) {
            s.waitForReadyRead(100);
            got += s.readAll();
        }
        QCOMPARE(got, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
        const QByteArray r = exchange(s, body, 30000);
        QVERIFY2(r.startsWith("HTTP/1.1 200"), r.constData());
        QVERIFY(r.contains("Connection: close"));
        QVERIFY(r.toLower().contains("x-request-id: kept-alive-1"));
        const QJsonObject o = QJsonDocument::fromJson(r.mid(r.indexOf("\r\n\r\n") + 4)).object();
        const QString id = o["job_id"].toString();
        QVERIFY(!id.isEmpty());
        QCOMPARE(waitForJob(server, id)["status"].toString(), QString("done"));
        QVERIFY(spoolIsEmpty(jobs.path()));
        QVERIFY(QFile::exists(jobs.path() + "/" + id + "/input.wav"));
    }

    // A client that goes away mid-upload, a server killed mid-upload and restarted, and a disk
    // that fills (a file size limit, as `ulimit -f` sets): nothing is left in the spool folder.
    void cutUploadsLeaveNothing() {
        QTemporaryDir jobs;
        {
            ServerProcess server;
            QVERIFY(server.start(jobs.path()));
            // A 5 MB upload of which `sent` bytes have gone.
            const auto partly = [&](QTcpSocket& s, int sent) {
                s.connectToHost(QHostAddress::LocalHost, quint16(server.url().port()));
                const bool ok = s.waitForConnected(5000) &&
                                s.write(uploadHead(5'000'000) + QByteArray(sent, 'x')) > 0 &&
                                s.waitForBytesWritten(5000);
                QTest::qWait(300);
                return ok;
            };
            {
                QTcpSocket s;
                QVERIFY(partly(s, 1'000'000));
                QCOMPARE(QDir(jobs.path() + "/.spool").entryList(QDir::Files).size(), 1);
                s.abort();
            }
            QTRY_VERIFY_WITH_TIMEOUT(spoolIsEmpty(jobs.path()), 5000);
            QTcpSocket s;
            QVERIFY(partly(s, 2'000'000));
            server.kill();
            QVERIFY(!spoolIsEmpty(jobs.path()));  // what a crash leaves
        }
        {
            ServerProcess server;
            QVERIFY(server.start(jobs.path()));
            QVERIFY(spoolIsEmpty(jobs.path()));
            QCOMPARE(http("GET", server.url("/health")).status, 200);
        }
        ServerProcess full;  // files of at most 4 MB (in 512-byte blocks); SIGXFSZ ignored
        QVERIFY(
            full.start(jobs.path(), {"--max-upload-mb", "100"}, "trap '' XFSZ; ulimit -f 8192"));
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, quint16(full.url().port()));
        QVERIFY(s.waitForConnected(5000));
        const QByteArray r = uploadLongWav(s, 20'000'000, "htdemucs_tiny");
        QVERIFY2(r.startsWith("HTTP/1.1 503"), r.constData());
        QVERIFY2(r.contains("disk full"), r.constData());
        QVERIFY(full.running());
        QTRY_VERIFY_WITH_TIMEOUT(spoolIsEmpty(jobs.path()), 5000);
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot), QStringList());
    }

    // --max-duration holds for what is decoded, not what the header says: a VBR MP3 whose loud
    // first frames make its length look like 13 s holds 62 s.
    void maxDurationHoldsWhileDecoding() {
        QTemporaryDir jobs, tmp;
        const auto mp3 = [&](const QString& name, const QString& source, const QString& quality,
                             const QStringList& more = {}) {
            return QProcess::execute(
                       "ffmpeg", QStringList{"-v", "error", "-y", "-f", "lavfi", "-i", source,
                                             "-ac", "2", "-c:a", "libmp3lame", "-q:a", quality} +
                                     more + QStringList{tmp.filePath(name)}) == 0;
        };
        QVERIFY(mp3("loud.mp3", "anoisesrc=d=2", "0"));
        QVERIFY(mp3("quiet.mp3", "anullsrc=d=60:cl=stereo", "9", {"-write_xing", "0"}));
        const QByteArray song =
            readAll(tmp.filePath("loud.mp3")) + readAll(tmp.filePath("quiet.mp3"));
        QFile liar(tmp.filePath("liar.mp3"));
        QVERIFY(liar.open(QIODevice::WriteOnly) && liar.write(song) == song.size());
        liar.close();
        const double header = probeAudio(liar.fileName().toStdString()).durationSeconds;
        QVERIFY2(header < 30, qPrintable(QString::number(header)));
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--max-duration", "30"}));
        QByteArray type;
        const HttpReply r =
            http("POST", server.url("/separate"), formBody(song, "htdemucs_tiny", &type), type);
        QCOMPARE(r.status, 200);  // the header passes
        const QJsonObject st = waitForJob(server, r.json()["job_id"].toString());
        QCOMPARE(st["status"].toString(), QString("error"));
        QVERIFY2(st["error"].toString().contains("longer than the 30 s allowed"),
                 qPrintable(st["error"].toString()));
    }
};

QTEST_GUILESS_MAIN(TestServerUploads)
#include "test_server_uploads.moc"
