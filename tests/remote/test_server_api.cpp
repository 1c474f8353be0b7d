// The rest of the hosted service's API on music-split-server, over real HTTP on 127.0.0.1: the
// original song back, downloads by job id (its download_template), /device, its metric names,
// and JSON log lines that carry the request's id.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;

class TestServerApi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hostedServiceRoutes() {
        QTemporaryDir jobs, tmp;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--shifts", "0", "--log-format", "json"}));
        const QByteArray song = readAll(shortSong(tmp.path(), 2));
        QByteArray type;
        const QJsonObject accepted =
            http("POST", server.url("/separate"), formBody(song, "htdemucs_tiny", &type), type)
                .json();
        const QString job = accepted["job_id"].toString(),
                      session = accepted["session_id"].toString();
        QVERIFY(!job.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(
            http("GET", server.url("/status/" + job)).json()["status"].toString(), QString("done"),
            60000);

        const HttpReply original = http("GET", server.url("/download/" + session + "/original"));
        QCOMPARE(original.status, 200);
        QCOMPARE(original.body, song);  // exactly what was sent
        QCOMPARE(original.header("Content-Type"), QByteArray("audio/wav"));

        const HttpReply byJob = http("GET", server.url("/download/status/" + job + "/vocals"));
        QCOMPARE(byJob.status, 200);
        QCOMPARE(byJob.body, http("GET", server.url("/download/" + session + "/vocals")).body);
        const HttpReply unknown = http("GET", server.url("/download/status/nope/vocals"));
        QCOMPARE(unknown.status, 404);
        QCOMPARE(unknown.json()["detail"].toString(), QString("Job not found"));

        const QJsonObject device = http("GET", server.url("/device")).json();
        QCOMPARE(device["device"].toString(), QString("cpu"));
        QVERIFY2(device["description"].toString().contains("CPU"),
                 QJsonDocument(device).toJson().constData());

        const QByteArray metrics = http("GET", server.url("/metrics")).body;
        for (const char* line :
             {R"(http_request_duration_seconds_count{method="POST",endpoint="/separate"} 1)",
              "separation_duration_seconds_count 1", "separation_file_size_bytes_count 1",
              "models_loaded 1", R"(separation_file_size_bytes_bucket{le="1e+06"} 1)"})
            QVERIFY2(metrics.contains(line), line);

        // A caller's request id comes back and names the request's JSON log line.
        QNetworkAccessManager net;
        QNetworkRequest req(server.url("/health"));
        req.setRawHeader("X-Request-ID", "abc-123");
        QNetworkReply* reply = net.get(req);
        QSignalSpy done(reply, &QNetworkReply::finished);
        QVERIFY(done.wait(10000));
        QCOMPARE(reply->rawHeader("X-Request-ID"), QByteArray("abc-123"));
        delete reply;
        QByteArray log;
        bool found = false;
        for (int i = 0; i < 50 && !found; ++i) {
            log += server.readStderr();
            for (const QByteArray& line : log.split('\n')) {
                if (line.isEmpty()) continue;
                QJsonParseError err{};
                const QJsonObject o = QJsonDocument::fromJson(line, &err).object();
                QVERIFY2(err.error == QJsonParseError::NoError, line.constData());  // every line
                QVERIFY(o.contains("time") && o.contains("level") && o.contains("message"));
                if (o["request_id"] == "abc-123" && o["message"].toString().contains("/health"))
                    found = true;
            }
        }
        QVERIFY2(found, log.constData());
    }
};

QTEST_GUILESS_MAIN(TestServerApi)
#include "test_server_api.moc"
