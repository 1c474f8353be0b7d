// RemoteJob against a scripted server (Qt's HTTP server on 127.0.0.1): busy servers, garbage and
// missing fields, failing jobs, timeouts and half-finished downloads, each ending in one plain
// sentence with nothing left on disk.
#include <QHttpServer>
#include <QHttpServerResponse>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>

#include "app/server/http_compat.h"
#include "core/file_names.h"
#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;
using Response = QHttpServerResponse;
using Status = QHttpServerResponse::StatusCode;

namespace {

// Every route of the API, answered by replaceable functions; requests are recorded.
struct ScriptedServer {
    QHttpServer http;
    QUrl url;
    QStringList log;           // "METHOD /path"
    QList<QByteArray> bodies;  // of the requests, in order
    std::function<Response()> submit = [] {
        return Response(QJsonObject{{"status", "accepted"},
                                    {"job_id", "j1"},
                                    {"session_id", "s1"},
                                    {"status_url", "/status/j1"},
                                    {"download_template", "/download/s1/{stem}"}});
    };
    std::function<Response()> status = [] {
        return Response(QJsonObject{{"status", "done"},
                                    {"result", QJsonObject{{"vocals", "/download/s1/vocals"},
                                                           {"drums", "/download/s1/drums"}}}});
    };
    std::function<Response(const QString&)> download = [](const QString& stem) {
        return Response("audio/flac", "fLaC bytes of " + stem.toUtf8());
    };

    ScriptedServer() {
        using M = QHttpServerRequest::Method;
        auto rec = [this](const QHttpServerRequest& r) {
            log << QString("%1 %2").arg(r.method() == M::Post     ? "POST"
                                        : r.method() == M::Delete ? "DELETE"
                                                                  : "GET",
                                        r.url().path());
            bodies << r.body();
        };
        http.route("/separate/youtube", M::Post, [=](const QHttpServerRequest& r) {
            rec(r);
            return submit();
        });
        http.route("/separate", M::Post, [=](const QHttpServerRequest& r) {
            rec(r);
            return submit();
        });
        http.route("/status/<arg>", M::Get, [=](const QString&, const QHttpServerRequest& r) {
            rec(r);
            return status();
        });
        http.route("/download/<arg>/<arg>", M::Get,
                   [=](const QString&, const QString& stem, const QHttpServerRequest& r) {
                       rec(r);
                       return download(stem);
                   });
        http.route("/cleanup/<arg>", M::Delete, [=](const QString&, const QHttpServerRequest& r) {
            rec(r);
            return Response(QJsonObject{{"status", "deleted"}});
        });
        url = QUrl(QString("http://127.0.0.1:%1").arg(http::listen(http, QHostAddress::LocalHost)));
    }

    RemoteConfig config() const {
        RemoteConfig c;
        c.server = url;
        c.pollMinMs = 20;
        c.pollMaxMs = 50;
        return c;
    }
};

Response busy(const QByteArray& retryAfter) {
    Response r(QJsonObject{{"detail", "rate limited"}}, Status::TooManyRequests);
    http::setHeader(r, "Retry-After", retryAfter);
    return r;
}

}  // namespace

class TestRemoteClient : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init() {
        QVERIFY(tmp_.isValid());
        song_ = shortSong(tmp_.path(), 0.5);
        out_ = tmp_.path() + "/out";
        QDir(out_).removeRecursively();
    }

    void waitsAsRetryAfterSaysThenSucceeds() {
        ScriptedServer s;
        int submits = 0, polls = 0;
        s.submit = [&, accept = s.submit] { return ++submits == 1 ? busy("1") : accept(); };
        s.status = [&, done = s.status] {
            ++polls;
            if (polls == 1) return Response(QJsonObject{{"status", "pending"}});
            if (polls == 2) return Response(QJsonObject{{"status", "running"}, {"progress", 0.5}});
            return done();
        };
        QStringList stages;
        QElapsedTimer clock;
        clock.start();
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_,
                                       [&](RemoteJob&, const QString& st) { stages << st; });
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QVERIFY(clock.elapsed() >= 1000);  // Retry-After: 1
        QVERIFY(stages.contains("Server busy; retrying in 1 s"));
        QVERIFY(stages.contains("Queued on the server"));
        QVERIFY(stages.contains("Separating on the server"));
        QCOMPARE(o.stems, QStringList({"drums", "vocals"}));
        QCOMPARE(readAll(out_ + "/vocals.flac"), QByteArray("fLaC bytes of vocals"));
        QCOMPARE(readAll(out_ + "/drums.flac"), QByteArray("fLaC bytes of drums"));
        QCOMPARE(s.log.last(), QString("DELETE /cleanup/s1"));
        QVERIFY(s.bodies.first().contains("name=\"model_name\"\r\n\r\nhtdemucs"));
    }

    void retryAfterAsHttpDate() {
        ScriptedServer s;
        int submits = 0;
        const QByteArray when = QLocale::c()
                                    .toString(QDateTime::currentDateTimeUtc().addSecs(2),
                                              "ddd, dd MMM yyyy hh:mm:ss 'GMT'")
                                    .toLatin1();
        s.submit = [&, accept = s.submit] { return ++submits == 1 ? busy(when) : accept(); };
        QElapsedTimer clock;
        clock.start();
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_);
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QVERIFY2(clock.elapsed() >= 900, qPrintable(QString::number(clock.elapsed())));
    }

    void givesUpWhenAlwaysBusy() {
        ScriptedServer s;
        s.submit = [] { return busy("0"); };
        RemoteConfig c = s.config();
        c.maxBusyRetries = 2;
        const JobOutcome o = runRemote(c, song_, "htdemucs", out_);
        QVERIFY2(o.error.contains("stayed busy"), qPrintable(o.error));
        QCOMPARE(s.log.count("POST /separate"), 3);
    }

    void garbageAndMissingFields_data() {
        QTest::addColumn<QByteArray>("accept");
        QTest::addColumn<QByteArray>("status");
        QTest::addColumn<QString>("expected");
        QTest::newRow("html accept")
            << QByteArray("<html>hello</html>") << QByteArray() << "not what Music Split expects";
        QTest::newRow("no session") << QByteArray(R"({"status":"accepted","job_id":"j1"})")
                                    << QByteArray() << "no job_id or session_id";
        QTest::newRow("status not json")
            << QByteArray() << QByteArray("pending...") << "not readable JSON";
        QTest::newRow("unknown state") << QByteArray() << QByteArray(R"({"status":"exploded"})")
                                       << "unknown job state 'exploded'";
        QTest::newRow("job failed")
            << QByteArray() << QByteArray(R"({"status":"error","error":"CUDA out of memory"})")
            << "could not separate the song: CUDA out of memory";
        QTest::newRow("no stems") << QByteArray() << QByteArray(R"({"status":"done","result":{}})")
                                  << "listed no stems";
    }
    void garbageAndMissingFields() {
        QFETCH(QByteArray, accept);
        QFETCH(QByteArray, status);
        QFETCH(QString, expected);
        ScriptedServer s;
        if (!accept.isEmpty()) s.submit = [accept] { return Response("application/json", accept); };
        if (!status.isEmpty()) s.status = [status] { return Response("application/json", status); };
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_);
        QVERIFY2(o.error.contains(expected), qPrintable(o.error));
        QVERIFY(!o.cancelled);
        QCOMPARE(QDir(out_).entryList(QDir::Files | QDir::Hidden).size(), 0);
        if (accept.isEmpty()) QCOMPARE(s.log.last(), QString("DELETE /cleanup/s1"));
    }

    void httpErrorsInPlainWords_data() {
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("expected");
        QTest::newRow("413") << 413 << "does not take this song: audio too long";
        QTest::newRow("503") << 503 << "unavailable: audio too long";
        QTest::newRow("401") << 401 << "refused the access token";
        QTest::newRow("500") << 500 << "answered 500 while sending the song: audio too long";
    }
    void httpErrorsInPlainWords() {
        QFETCH(int, code);
        QFETCH(QString, expected);
        ScriptedServer s;
        s.submit = [code] {
            return Response(QJsonObject{{"detail", "audio too long"}}, Status(code));
        };
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_);
        QVERIFY2(o.error.contains(expected), qPrintable(o.error));
    }

    void forgottenJob() {
        ScriptedServer s;
        s.status = [] { return Response(QJsonObject{{"detail", "no job"}}, Status::NotFound); };
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_);
        QVERIFY2(o.error.contains("forgotten this job"), qPrintable(o.error));
    }

    void failedDownloadLeavesNoStems() {
        ScriptedServer s;
        s.download = [](const QString& stem) {
            return stem == "drums" ? Response("audio/flac", "fLaC drums")
                                   : Response(QJsonObject{{"detail", "gone"}}, Status::NotFound);
        };
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_);
        QVERIFY2(o.error.contains("while downloading vocals: gone"), qPrintable(o.error));
        QCOMPARE(QDir(out_).entryList(QDir::Files | QDir::Hidden).size(), 0);
        QCOMPARE(s.log.last(), QString("DELETE /cleanup/s1"));
    }

    void silentServerTimesOut() {
        QTcpServer silent;  // accepts connections and never answers
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        RemoteConfig c;
        c.server = QUrl(QString("http://127.0.0.1:%1").arg(silent.serverPort()));
        c.transferTimeoutMs = 300;
        QElapsedTimer clock;
        clock.start();
        const JobOutcome o = runRemote(c, song_, "htdemucs", out_);
        QVERIFY2(o.error.contains("did not answer in time"), qPrintable(o.error));
        QVERIFY(clock.elapsed() < 20000);
    }

    void webAddressesGoToTheServer() {
        ScriptedServer s;
        const JobOutcome o =
            runRemote(s.config(), "https://www.youtube.com/watch?v=abc", "htdemucs_6s", out_);
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(s.log.first(), QString("POST /separate/youtube"));
        const QJsonObject sent = QJsonDocument::fromJson(s.bodies.first()).object();
        QCOMPARE(sent["url"].toString(), QString("https://www.youtube.com/watch?v=abc"));
        QCOMPARE(sent["model_name"].toString(), QString("htdemucs_6s"));
    }

    // A server behind a proxy's prefix, and stems named by full address on another host: the
    // prefix is kept, and the token goes to the configured server only.
    void prefixesAndForeignAddresses() {
        ScriptedServer s, other;
        QList<QPair<QString, QByteArray>> seen;  // path, Authorization
        for (ScriptedServer* srv : {&s, &other})
            http::afterEachRequest(srv->http, [&seen](const QHttpServerRequest& req) {
                seen << qMakePair(req.url().toString(), req.value("Authorization"));
            });
        const QString foreign = other.url.toString() + "/download/s1/vocals";
        s.status = [foreign] {
            return Response(
                QJsonObject{{"status", "done"}, {"result", QJsonObject{{"vocals", foreign}}}});
        };
        // The prefix "/api" does not exist on the scripted server: only the paths are checked.
        RemoteConfig c = s.config();
        c.token = "abc123";
        const QUrl base = c.server;
        c.server = QUrl(base.toString() + "/api/");
        QCOMPARE(remoteRequest(c, "/status/j1").url().toString(),
                 base.toString() + "/api/status/j1");
        QCOMPARE(remoteRequest(c, "status/j1").url().path(), QString("/api/status/j1"));
        QCOMPARE(remoteRequest(c, foreign).url().toString(), foreign);
        QCOMPARE(remoteRequest(c, foreign).rawHeader("Authorization"), QByteArray());
        QCOMPARE(remoteRequest(c, "/x").rawHeader("Authorization"), QByteArray("Bearer abc123"));

        c.server = base;
        const JobOutcome o = runRemote(c, song_, "htdemucs", out_);
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(readAll(out_ + "/vocals.flac"), QByteArray("fLaC bytes of vocals"));
        for (const auto& [url, auth] : seen)
            QCOMPARE(auth.isEmpty(), url.startsWith(other.url.toString()));
    }

    // The status answer read on its own (the fuzz target reads it the same way).
    void statusAnswersAreReadStrictly() {
        const QString tmpl = "/download/s1/{stem}";
        RemoteStatus st = readRemoteStatus(
            R"({"status":"done","stems":["vocals","drums","vocals"],
                "result":{"drums":"/download/s1/drums","vocals":"v.flac"}})",
            tmpl);
        QVERIFY(st.problem.isEmpty());
        QCOMPARE(st.stems, (QStringList{"vocals", "drums"}));  // the model's order, once each
        QCOMPARE(st.paths, (QStringList{"/download/s1/vocals", "/download/s1/drums"}));
        st = readRemoteStatus(R"({"status":"done","result":{"a/b":"/x","a_b":"/y"}})", tmpl);
        QVERIFY2(st.problem.contains("twice"), qPrintable(st.problem));  // one file for two stems
        st = readRemoteStatus(R"({"status":"running","progress":7})", tmpl);
        QCOMPARE(st.progress, 1.0);
        QVERIFY(readRemoteStatus("[1,2]", tmpl).problem.contains("not readable"));
        QVERIFY(readRemoteStatus(R"({"status":"done","result":{}})", tmpl)
                    .problem.contains("no stems"));
        QVERIFY(readRemoteStatus(R"({"status":"error"})", tmpl).problem.contains("no reason"));
        QVERIFY(readRemoteStatus(R"({"status":")" + QByteArray(5000, 'x') + R"("})", tmpl)
                    .problem.size() < 200);
    }

    // Stem names in a server's reply become file names: "../" and folders stay out.
    void hostileStemNamesStayInTheFolder() {
        QCOMPARE(safeFileName("../../etc/passwd"), QString("_._.._etc_passwd"));
        QCOMPARE(safeFileName(".."), QString("_."));
        QCOMPARE(safeFileName(".hidden"), QString("_hidden"));
        QCOMPARE(safeFileName("a\\b:c*d?e\"f<g>h|i\x01"), QString("a_b_c_d_e_f_g_h_i_"));
        QCOMPARE(safeFileName("   "), QString("_"));
        QCOMPARE(safeFileName("Voix é"), QString("Voix é"));
        QCOMPARE(safeFileName(QString(300, 'x')).size(), 100);

        ScriptedServer s;
        // Full addresses are taken as they are (the names would not route as a template's).
        const QString at = s.url.toString() + "/download/s1/";
        s.status = [at] {
            return Response(QJsonObject{{"status", "done"},
                                        {"result", QJsonObject{{"../../evil", at + "evil"},
                                                               {"sub/dir", at + "subdir"},
                                                               {".cfg", at + "cfg"}}},
                                        {"stems", QJsonArray{"../../evil", "sub/dir", ".cfg"}}});
        };
        const JobOutcome o = runRemote(s.config(), song_, "htdemucs", out_);
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(o.stems, QStringList({"_._.._evil", "sub_dir", "_cfg"}));
        QCOMPARE(QDir(out_).entryList(QDir::Files | QDir::Hidden),
                 QStringList({"_._.._evil.flac", "_cfg.flac", "sub_dir.flac"}));
        QVERIFY(!QFile::exists(tmp_.path() + "/evil.flac"));
        QVERIFY(!QFile::exists(QDir(out_).absoluteFilePath("../../evil.flac")));
        QCOMPARE(readAll(out_ + "/sub_dir.flac"), QByteArray("fLaC bytes of subdir"));
    }

    void bearerTokenIsSent() {
        ScriptedServer s;
        QByteArray auth;
        http::afterEachRequest(
            s.http, [&](const QHttpServerRequest& req) { auth = req.value("Authorization"); });
        RemoteConfig c = s.config();
        c.token = "abc123";
        const JobOutcome o = runRemote(c, song_, "htdemucs", out_);
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(auth, QByteArray("Bearer abc123"));
    }

private:
    QTemporaryDir tmp_;
    QString song_, out_;
};

QTEST_GUILESS_MAIN(TestRemoteClient)
#include "test_remote_client.moc"
