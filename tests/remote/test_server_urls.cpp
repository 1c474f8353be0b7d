// music-split-server's jobs that start from a web address (POST /separate/youtube), over real
// HTTP on 127.0.0.1: yt-dlp run by the server against a loopback web server, the guard that
// refuses private addresses, and a session's cleanup stopping only its own download.
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "app/server/url_guard.h"
#include "core/engine/device.h"
#include "tests/common/file_server.h"
#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;

class TestServerUrls : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(QFile::exists(repoDir()), "the shared Demucs fixtures are missing");
        engine::setThreads(1);
    }

    // POST /separate/youtube: the server fetches the address with yt-dlp (here from a loopback
    // web server), checks its length and separates it.
    void webAddressesAreFetchedByTheServer() {
        QTemporaryDir jobs, jobs2, media, out;
        shortSong(media.path(), 2);
        FileServer web(media.path());
        const QString url = web.baseUrl() + "song-2s.wav";
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--max-duration", "10", "--allow-private-urls"}));
        JobOutcome o = runRemote(configFor(server), url, "htdemucs_tiny", out.path());
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(o.stems.size(), 4);
        QCOMPARE(decodeAudio(o.files[0].toStdString()).frames(), 88200);

        ServerProcess strict;
        QVERIFY(strict.start(jobs2.path(), {"--max-duration", "1", "--allow-private-urls"}));
        o = runRemote(configFor(strict), url, "htdemucs_tiny", out.path());
        QVERIFY2(o.error.contains("too long"), qPrintable(o.error));
        o = runRemote(configFor(strict), web.baseUrl() + "missing.wav", "htdemucs_tiny",
                      out.path());
        QVERIFY2(o.error.contains("could not separate the song"), qPrintable(o.error));
    }

    // /separate/youtube fetches public addresses only (unless --allow-private-urls): loopback,
    // private, link-local and metadata addresses, names that are never public and names that
    // do not resolve are refused.
    void privateAddressesAreRefused() {
        for (const char* a : {"127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1",
                              "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1",
                              "fd00::1", "::ffff:192.168.0.1", "224.0.0.1", "255.255.255.255"})
            QVERIFY2(!server::isPublicAddress(QHostAddress(QString(a))), a);
        for (const char* a : {"8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:1.1.1.1"})
            QVERIFY2(server::isPublicAddress(QHostAddress(QString(a))), a);
        QVERIFY(server::refusedUrl("http://localhost:8000/x").contains("not a public host"));
        QVERIFY(server::refusedUrl("http://metadata/x").contains("not a public host"));
        QVERIFY(server::refusedUrl("http://[::1]/x").contains("not a public address"));
        QVERIFY(server::refusedUrl("file:///etc/passwd").contains("only http and https"));
        QVERIFY(server::refusedUrl("https://www.youtube.com/watch?v=x").isEmpty());

        QTemporaryDir jobs, media;
        shortSong(media.path(), 1);
        FileServer web(media.path());
        ServerProcess server;
        QVERIFY(server.start(jobs.path()));
        const auto post = [&](const QString& url) {
            return http(
                "POST", server.url("/separate/youtube"),
                QJsonDocument(QJsonObject{{"url", url}, {"model_name", "htdemucs_tiny"}}).toJson(),
                "application/json");
        };
        HttpReply r = post(web.baseUrl() + "song-1s.wav");  // a server on 127.0.0.1
        QCOMPARE(r.status, 400);
        QVERIFY2(r.json()["detail"].toString().contains("--allow-private-urls"),
                 qPrintable(r.json()["detail"].toString()));
        QCOMPARE(post("http://169.254.169.254/latest/meta-data/").status, 400);
        r = post("http://no-such-host.invalid/song.wav");  // resolved before yt-dlp runs
        QCOMPARE(r.status, 200);
        const QJsonObject st = waitForJob(server, r.json()["job_id"].toString());
        QCOMPARE(st["status"].toString(), QString("error"));
        QVERIFY2(st["error"].toString().contains("cannot resolve"),
                 qPrintable(st["error"].toString()));
    }

    // Cleaning one session up while two downloads run stops that session's yt-dlp only.
    void cleanupStopsOnlyItsOwnDownload() {
        QTemporaryDir jobs, media, bin;
        shortSong(media.path(), 1);
        FileServer web(media.path());
        const QString slow = bin.filePath("slow-yt-dlp");  // yt-dlp after a pause
        QFile f(slow);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\nsleep 2\nexec yt-dlp \"$@\"\n");
        f.close();
        f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--yt-dlp", slow, "--allow-private-urls"}));
        const QByteArray body = QJsonDocument(QJsonObject{{"url", web.baseUrl() + "song-1s.wav"},
                                                          {"model_name", "htdemucs_tiny"}})
                                    .toJson();
        const QJsonObject a =
            http("POST", server.url("/separate/youtube"), body, "application/json").json();
        const QJsonObject b =
            http("POST", server.url("/separate/youtube"), body, "application/json").json();
        QCOMPARE(http("DELETE", server.url("/cleanup/" + a["session_id"].toString())).status, 200);
        QCOMPARE(waitForJob(server, b["job_id"].toString())["status"].toString(), QString("done"));
        QCOMPARE(http("GET", server.url("/status/" + a["job_id"].toString())).status, 404);
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                 QStringList({b["job_id"].toString()}));
    }
};

QTEST_GUILESS_MAIN(TestServerUrls)
#include "test_server_urls.moc"
