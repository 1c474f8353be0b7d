// music-split-server as users meet it, over real HTTP on 127.0.0.1: the client against it end to
// end, every status code, a bounded load test, a kill and restart, and the app's queue in remote
// mode.
#include <QDir>
#include <QDirIterator>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "core/engine/device.h"
#include "core/jobs/job_queue.h"
#include "core/jobs/library.h"
#include "core/jobs/separation.h"
#include "tests/common/file_server.h"
#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;

class TestServer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(QFile::exists(repoDir()), "the shared Demucs fixtures are missing");
        // As the server (started with --jobs 1) does: the same BLAS kernels and one thread, so
        // local and remote results match to the last bit.
        engine::setThreads(1);
    }

    void endToEndEqualsLocalSeparation() {
        QTemporaryDir jobs, out;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--shifts", "0"}));
        const QString input = caseDir("htdemucs_tiny") + "/input.wav";
        const JobOutcome o = runRemote(configFor(server), input, "htdemucs_tiny", out.path());
        QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
        QCOMPARE(o.stems, QStringList({"drums", "bass", "other", "vocals"}));  // the model's order

        // The same song separated here, with the same settings.
        SeparationSettings s;
        s.repo = repoDir().toStdString();
        s.model = "htdemucs_tiny";
        s.options.shifts = 0;
        s.device = "cpu";
        const LoadedModel model = loadSeparationModel(s);
        const auto local = separateAudio(model, decodeAudio(input.toStdString(), 44100, 2), s);
        const at::Tensor official =
            engine::readNpy((caseDir("htdemucs_tiny") + "/separate.npy").toStdString());
        const QStringList order = {"drums", "bass", "other", "vocals"};
        for (int i = 0; i < o.stems.size(); ++i) {
            AudioInfo info;
            AudioBuffer got = decodeAudio(o.files[i].toStdString(), 44100, 2, &info);
            QCOMPARE(QString::fromStdString(info.codec), QString("flac"));
            const auto& mine = *std::find_if(local.begin(), local.end(), [&](const Stem& st) {
                return QString::fromStdString(st.name) == o.stems[i];
            });
            QCOMPARE(got.frames(), mine.audio.frames());
            double worst = 0;
            for (size_t k = 0; k < got.samples.size(); ++k)
                worst = std::max(worst, double(std::abs(got.samples[k] - mine.audio.samples[k])));
            // 24-bit FLAC: half a step of 2^-23, plus float rounding.
            QVERIFY2(worst <= 0.51 / 8388608.0 + 1e-7,
                     qPrintable(QString("%1 differs by %2").arg(o.stems[i]).arg(worst)));
            const at::Tensor t = at::from_blob(got.samples.data(), {2, got.frames()}, at::kFloat);
            QVERIFY(relativeError(t, official[order.indexOf(o.stems[i])]) <= 1e-4);
        }
        // The client cleaned up: the server forgot the session and deleted its files.
        QTRY_COMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
    }

    void everyStatusCode() {
        QTemporaryDir jobs, tmp;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--token", "s3cret", "--max-duration", "5",
                                           "--max-upload-mb", "4", "--max-pending", "1"}));
        const QByteArray tok = "s3cret";
        QCOMPARE(http("GET", server.url("/health")).status, 401);
        QCOMPARE(http("GET", server.url("/health"), {}, {}, "wrong").status, 401);
        const HttpReply health = http("GET", server.url("/health"), {}, {}, tok);
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json()["status"].toString(), QString("healthy"));

        const QJsonObject models = http("GET", server.url("/models"), {}, {}, tok).json();
        QVERIFY(models["models"].toArray().contains("htdemucs_tiny"));
        QCOMPARE(models["total"].toInt(), models["models"].toArray().size());
        QCOMPARE(models["details"]
                     .toObject()["htdemucs6_tiny_bottom"]
                     .toObject()["names"]
                     .toArray()
                     .size(),
                 6);
        QCOMPARE(http("GET", server.url("/models/htdemucs_tiny"), {}, {}, tok).status, 200);
        QCOMPARE(http("GET", server.url("/models/nope"), {}, {}, tok).status, 404);

        QByteArray type;
        const QByteArray song = readAll(shortSong(tmp.path(), 3));
        auto post = [&](const QByteArray& file, const QByteArray& model) {
            return http("POST", server.url("/separate"), formBody(file, model, &type), type, tok);
        };
        HttpReply r = http("POST", server.url("/separate"), "{}", "application/json", tok);
        QCOMPARE(r.status, 400);
        QVERIFY(r.json()["detail"].toString().contains("multipart"));
        r = post(song, "nope");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json()["detail"].toString().contains("unknown model 'nope'"));
        r = post("this is not audio at all", "htdemucs_tiny");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json()["detail"].toString().contains("not a readable audio file"));
        QVERIFY(!r.body.contains(jobs.path().toUtf8()));  // no server paths in answers
        r = post(readAll(caseDir("htdemucs_tiny") + "/input.wav"), "htdemucs_tiny");  // 9 s
        QCOMPARE(r.status, 413);
        QVERIFY(r.json()["detail"].toString().contains("too long"));
        {  // What libFuzzer found: a part cut short hung the parser (and the server) for good.
            QFile f(MUSIC_SPLIT_TEST_DATA "/remote/regressions/multipart-cut-part.bin");
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray all = f.readAll();
            const qsizetype eol = all.indexOf('\n');
            r = http("POST", server.url("/separate"), all.mid(eol + 1), all.left(eol), tok);
            // Poco 1.12 (Debian 12) stops at the cut; later ones read no file field from it.
            QCOMPARE(r.status, 400);
            QVERIFY2(r.json()["detail"].toString().contains("multipart") ||
                         r.json()["detail"].toString().contains("no 'file' field"),
                     r.body.constData());
        }
        r = post(QByteArray(5'000'000, 'x'), "htdemucs_tiny");
        QCOMPARE(r.status, 413);
        QVERIFY(r.json()["detail"].toString().contains("too large"));
        r = http("POST", server.url("/separate/youtube"), R"({"url": "not a url"})",
                 "application/json", tok);
        QCOMPARE(r.status, 400);

        r = post(song, "htdemucs_tiny");
        QCOMPARE(r.status, 200);
        const QJsonObject accepted = r.json();
        QCOMPARE(accepted["status"].toString(), QString("accepted"));
        const QString jobId = accepted["job_id"].toString(),
                      session = accepted["session_id"].toString();
        QCOMPARE(accepted["status_url"].toString(), QString("/status/" + jobId));
        r = post(song, "htdemucs_tiny");  // --max-pending 1
        QCOMPARE(r.status, 429);
        QVERIFY(r.header("Retry-After").toInt() > 0);

        QCOMPARE(http("GET", server.url("/status/nope"), {}, {}, tok).status, 404);
        QDeadlineTimer deadline(120000);
        QJsonObject st;
        do {
            st = http("GET", server.url("/status/" + jobId), {}, {}, tok).json();
            QTest::qWait(100);
        } while (st["status"] != "done" && st["status"] != "error" && !deadline.hasExpired());
        QCOMPARE(st["status"].toString(), QString("done"));
        QCOMPARE(st["model"].toString(), QString("htdemucs_tiny"));
        QVERIFY(QDateTime::fromString(st["finished_at"].toString(), Qt::ISODateWithMs) >=
                QDateTime::fromString(st["submitted_at"].toString(), Qt::ISODateWithMs));
        QCOMPARE(st["result"].toObject().keys(), QStringList({"bass", "drums", "other", "vocals"}));
        QCOMPARE(st["stems"].toArray().toVariantList().size(), 4);
        QCOMPARE(st["stems"].toArray().first().toString(), QString("drums"));
        const HttpReply flac =
            http("GET", server.url(st["result"].toObject()["drums"].toString()), {}, {}, tok);
        QCOMPARE(flac.status, 200);
        QCOMPARE(flac.header("Content-Type"), QByteArray("audio/flac"));
        QVERIFY(flac.body.startsWith("fLaC"));
        QCOMPARE(http("GET", server.url("/download/" + session + "/guitar"), {}, {}, tok).status,
                 404);
        QCOMPARE(http("GET", server.url("/download/nope/drums"), {}, {}, tok).status, 404);

        const QByteArray metrics = http("GET", server.url("/metrics"), {}, {}, tok).body;
        QVERIFY(metrics.contains(R"(music_split_requests_total{route="/separate",code="429"} 1)"));
        QVERIFY(metrics.contains(R"(music_split_requests_total{route="/separate",code="413"} 2)"));
        QVERIFY(metrics.contains(R"(music_split_separations_total{outcome="done"} 1)"));
        QVERIFY(metrics.contains("music_split_separation_seconds_count 1"));

        QCOMPARE(http("DELETE", server.url("/cleanup/" + session), {}, {}, tok).status, 200);
        QCOMPARE(http("DELETE", server.url("/cleanup/" + session), {}, {}, tok).status, 404);
        QCOMPARE(http("GET", server.url("/status/" + jobId), {}, {}, tok).status, 404);

        // A server without models is unavailable (503), not broken.
        QTemporaryDir empty, jobs2;
        ServerProcess bare;
        QVERIFY(bare.start(jobs2.path(), {"--repo", empty.path()}));
        QCOMPARE(http("GET", bare.url("/health")).status, 503);
        QCOMPARE(
            http("POST", bare.url("/separate"), formBody(song, "htdemucs", &type), type).status,
            503);
    }

    void clientErrorsInPlainWords() {
        QTemporaryDir jobs, tmp, out;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--token", "t0k", "--max-duration", "5"}));
        const QString song = shortSong(tmp.path(), 2);
        JobOutcome o = runRemote(configFor(server, "bad"), song, "htdemucs_tiny", out.path());
        QVERIFY2(o.error.contains("refused the access token"), qPrintable(o.error));
        o = runRemote(configFor(server, "t0k"), song, "nope", out.path());
        QVERIFY2(o.error.contains("unknown model 'nope'"), qPrintable(o.error));
        o = runRemote(configFor(server, "t0k"), caseDir("htdemucs_tiny") + "/input.wav",
                      "htdemucs_tiny", out.path());
        QVERIFY2(o.error.contains("does not take this song") && o.error.contains("too long"),
                 qPrintable(o.error));
        RemoteConfig dead = configFor(server);
        dead.server = QUrl("http://127.0.0.1:" + QString::number(closedPort()));
        o = runRemote(dead, song, "htdemucs_tiny", out.path());
        QVERIFY2(o.error.contains("Cannot reach the server"), qPrintable(o.error));
        QCOMPARE(QDir(out.path()).entryList(QDir::Files).size(), 0);
    }

    void cancelLeavesNothing() {
        QTemporaryDir jobs, out;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--shifts", "2"}));
        bool cancelled = false;
        const JobOutcome o =
            runRemote(configFor(server), caseDir("htdemucs_tiny") + "/input.wav", "htdemucs_tiny",
                      out.path(), [&](RemoteJob& job, const QString& stage) {
                          if (!cancelled && stage.contains("on the server")) {
                              cancelled = true;
                              job.cancel();
                          }
                      });
        QVERIFY(o.cancelled);
        QCOMPARE(QDir(out.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
        // The cancel reached the server: the session is gone, files and all.
        QTRY_COMPARE_WITH_TIMEOUT(
            QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0, 10000);
        QCOMPARE(http("GET", server.url("/health")).json()["active_jobs"].toInt(), 0);
    }

    void serverVanishesMidJob() {
        QTemporaryDir jobs, out;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--shifts", "4"}));
        RemoteConfig c = configFor(server);
        c.maxPollFailures = 2;
        const JobOutcome o = runRemote(c, caseDir("htdemucs_tiny") + "/input.wav", "htdemucs_tiny",
                                       out.path(), [&](RemoteJob&, const QString& stage) {
                                           if (stage.contains("on the server") && server.running())
                                               server.kill();
                                       });
        QVERIFY2(o.error.contains("Cannot reach the server") && o.error.contains("separating"),
                 qPrintable(o.error));
        QCOMPARE(QDir(out.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
    }

    void boundedLoad() {
        QTemporaryDir jobs, tmp;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--max-pending", "4"}));
        QByteArray type;
        const QByteArray body = formBody(readAll(shortSong(tmp.path(), 1)), "htdemucs_tiny", &type);
        // 20 submissions at once.
        QNetworkAccessManager net;
        QList<QNetworkReply*> replies;
        for (int i = 0; i < 20; ++i) {
            QNetworkRequest req(server.url("/separate"));
            req.setHeader(QNetworkRequest::ContentTypeHeader, type);
            replies << net.post(req, body);
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.begin(), replies.end(),
                                             [](QNetworkReply* r) { return r->isFinished(); }),
                                 60000);
        QStringList accepted;
        int busy = 0;
        for (QNetworkReply* r : replies) {
            const int status = r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (status == 200)
                accepted << QJsonDocument::fromJson(r->readAll()).object()["job_id"].toString();
            else if (status == 429) {
                ++busy;
                QVERIFY(r->hasRawHeader("Retry-After"));
            } else
                QFAIL(qPrintable(QString("unexpected status %1").arg(status)));
            r->deleteLater();
        }
        qInfo("20 submissions: %lld accepted, %d busy (429)", qlonglong(accepted.size()), busy);
        QCOMPARE(accepted.size() + busy, 20);
        QVERIFY2(accepted.size() >= 4 && busy >= 10,
                 qPrintable(QString("%1 accepted, %2 busy").arg(accepted.size()).arg(busy)));
        for (const QString& id : accepted) {
            const QJsonObject st = waitForJob(server, id);
            QCOMPARE(st["status"].toString(), QString("done"));
            for (const QString& stem : st["result"].toObject().keys()) {
                const HttpReply f = http("GET", server.url(st["result"][stem].toString()));
                QCOMPARE(f.status, 200);
                QVERIFY(f.body.startsWith("fLaC"));
            }
        }
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(),
                 accepted.size());
        QCOMPARE(http("GET", server.url("/health")).status, 200);
    }

    void restartKeepsFinishedJobs() {
        QTemporaryDir jobs, tmp;
        QByteArray type;
        QString doneId, doneSession, cutId;
        QByteArray drums;
        {
            ServerProcess server;
            QVERIFY(server.start(jobs.path(), {"--shifts", "4"}));
            const QByteArray shortBody =
                formBody(readAll(shortSong(tmp.path(), 1)), "htdemucs_tiny", &type);
            HttpReply r = http("POST", server.url("/separate"), shortBody, type);
            doneId = r.json()["job_id"].toString();
            doneSession = r.json()["session_id"].toString();
            QCOMPARE(waitForJob(server, doneId)["status"].toString(), QString("done"));
            drums = http("GET", server.url("/download/" + doneSession + "/drums")).body;
            QVERIFY(drums.startsWith("fLaC"));
            r = http(
                "POST", server.url("/separate"),
                formBody(readAll(caseDir("htdemucs_tiny") + "/input.wav"), "htdemucs_tiny", &type),
                type);
            cutId = r.json()["job_id"].toString();
            QVERIFY(!cutId.isEmpty());
            QDeadlineTimer deadline(120000);  // killed in the middle of its separation
            while (http("GET", server.url("/status/" + cutId)).json()["progress"].toDouble() <
                       0.2 &&
                   !deadline.hasExpired())
                QTest::qWait(20);
            server.kill();
        }
        ServerProcess again;
        QVERIFY(again.start(jobs.path()));
        QCOMPARE(http("GET", again.url("/status/" + doneId)).json()["status"].toString(),
                 QString("done"));
        QCOMPARE(http("GET", again.url("/download/" + doneSession + "/drums")).body, drums);
        const QJsonObject cut = http("GET", again.url("/status/" + cutId)).json();
        QCOMPARE(cut["status"].toString(), QString("error"));
        QVERIFY(cut["error"].toString().contains("interrupted"));
        // Nothing of the interrupted job is left but its record: no partial stems, no upload.
        QDirIterator left(jobs.filePath(cutId), QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot,
                          QDirIterator::Subdirectories);
        QStringList files;
        while (left.hasNext())
            files << QFileInfo(left.next()).fileName();
        QCOMPARE(files, QStringList({"job.json"}));
    }

    // POST /mix as the hosted service has it: {session_id, stems: {name: volume}} answered with a
    // 24-bit FLAC of those stems at those volumes; tempo and semitones on top; bad requests in
    // plain words.
    void mixOverHttp() {
        QTemporaryDir jobs, tmp;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--token", "t0k", "--max-duration", "5"}));
        QByteArray type;
        HttpReply r =
            http("POST", server.url("/separate"),
                 formBody(readAll(shortSong(tmp.path(), 3)), "htdemucs_tiny", &type), type, "t0k");
        const QString id = r.json()["job_id"].toString(),
                      session = r.json()["session_id"].toString();
        QDeadlineTimer deadline(120000);
        while (http("GET", server.url("/status/" + id), {}, {}, "t0k").json()["status"] != "done" &&
               !deadline.hasExpired())
            QTest::qWait(100);
        auto stem = [&](const QString& name) {
            const QString file = tmp.filePath(name + ".flac");
            QFile f(file);
            f.open(QIODevice::WriteOnly);
            f.write(
                http("GET", server.url("/download/" + session + "/" + name), {}, {}, "t0k").body);
            f.close();
            return decodeAudio(file.toStdString(), 44100, 2);
        };
        const AudioBuffer vocals = stem("vocals"), drums = stem("drums");
        auto post = [&](const QJsonObject& body, const QByteArray& token = "t0k") {
            return http("POST", server.url("/mix"), QJsonDocument(body).toJson(),
                        "application/json", token);
        };
        r = post(
            {{"session_id", session}, {"stems", QJsonObject{{"vocals", 1.0}, {"drums", 0.5}}}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.startsWith("fLaC"));
        QFile out(tmp.filePath("mix.flac"));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(r.body);
        out.close();
        AudioInfo info;
        const AudioBuffer mix = decodeAudio(out.fileName().toStdString(), 44100, 2, &info);
        QCOMPARE(QString::fromStdString(info.codec), QString("flac"));
        QCOMPARE(mix.frames(), vocals.frames());
        double worst = 0;  // the sum, up to 24-bit steps (the stems' and the mix's)
        for (size_t k = 0; k < mix.samples.size(); ++k)
            worst = std::max(
                worst,
                double(std::abs(mix.samples[k] - (vocals.samples[k] + 0.5f * drums.samples[k]))));
        QVERIFY2(worst < 4.0 / 8388608.0, qPrintable(QString::number(worst)));

        r = post({{"session_id", session}, {"tempo", 1.25}, {"semitones", -2}});
        QCOMPARE(r.status, 200);
        QFile stretched(tmp.filePath("stretched.flac"));
        QVERIFY(stretched.open(QIODevice::WriteOnly));
        stretched.write(r.body);
        stretched.close();
        const int64_t frames = decodeAudio(stretched.fileName().toStdString(), 44100, 2).frames();
        QCOMPARE(frames, std::llround(vocals.frames() / 1.25));

        // Mixes are answered whole from memory: bounded in length, one at a time.
        r = post({{"session_id", session}, {"tempo", 0.25}});  // 12 s of a 3 s song: over 2 x 5 s
        QCOMPARE(r.status, 413);
        QVERIFY(r.json()["detail"].toString().contains("at most 0.2 min"));
        {
            QNetworkAccessManager net;
            QList<QNetworkReply*> both;
            for (int i = 0; i < 2; ++i) {
                QNetworkRequest req(server.url("/mix"));
                req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
                req.setRawHeader("Authorization", "Bearer t0k");
                both << net.post(
                    req, QJsonDocument(
                             QJsonObject{{"session_id", session}, {"tempo", 0.6}, {"semitones", 3}})
                             .toJson());
            }
            QTRY_VERIFY_WITH_TIMEOUT(both[0]->isFinished() && both[1]->isFinished(), 60000);
            QList<int> codes;
            for (QNetworkReply* reply : both)
                codes << reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            std::sort(codes.begin(), codes.end());
            QCOMPARE(codes, (QList<int>{200, 429}));
            qDeleteAll(both);
        }
        QCOMPARE(post({{"session_id", session}}, "wrong").status, 401);
        QCOMPARE(post({{"session_id", "nope"}}).status, 404);
        for (const QJsonObject& bad :
             {QJsonObject{{"session_id", session}, {"stems", QJsonObject{{"guitar", 1.0}}}},
              QJsonObject{{"session_id", session}, {"stems", QJsonObject{{"vocals", "loud"}}}},
              QJsonObject{{"session_id", session}, {"stems", QJsonObject{{"vocals", -1.0}}}},
              QJsonObject{{"session_id", session}, {"stems", QJsonObject{{"vocals", 0.0}}}},
              QJsonObject{{"session_id", session}, {"tempo", 3.0}},
              QJsonObject{{"session_id", session}, {"semitones", "up"}}}) {
            r = post(bad);
            QVERIFY2(r.status == 400, qPrintable(QJsonDocument(bad).toJson()));
            QVERIFY(!r.json()["detail"].toString().isEmpty());
        }
        QCOMPARE(http("POST", server.url("/mix"), "{not json", "application/json", "t0k").status,
                 400);
        // Nothing of the mixes is left beside the stems.
        QDirIterator left(jobs.path(), {".mix-*"}, QDir::Files | QDir::Hidden,
                          QDirIterator::Subdirectories);
        QVERIFY(!left.hasNext());
    }

    void finishedJobsExpire() {
        QTemporaryDir jobs, tmp;
        ServerProcess server;
        QVERIFY(server.start(jobs.path(), {"--keep-hours", "0.0005"}));  // 1.8 s
        QByteArray type;
        const HttpReply r =
            http("POST", server.url("/separate"),
                 formBody(readAll(shortSong(tmp.path(), 1)), "htdemucs_tiny", &type), type);
        const QString id = r.json()["job_id"].toString();
        QCOMPARE(waitForJob(server, id)["status"].toString(), QString("done"));
        QTRY_COMPARE_WITH_TIMEOUT(http("GET", server.url("/status/" + id)).status, 404, 10000);
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
    }

    // A session cleaned up while its song is being separated: the separation stops, and its
    // folder goes once it has (not while it still writes there); the next job runs.
    void cleanupWhileSeparatingLeavesNothing() {
        QTemporaryDir jobs, tmp;
        const QString song = tmp.filePath("long.flac");
        QVERIFY(QProcess::execute(
                    "ffmpeg", {"-v", "error", "-y", "-stream_loop", "6", "-i",
                               caseDir("htdemucs_tiny") + "/input.wav", "-t", "60", song}) == 0);
        ServerProcess server;
        QVERIFY(server.start(jobs.path()));
        QByteArray type;
        const QJsonObject a = http("POST", server.url("/separate"),
                                   formBody(readAll(song), "htdemucs_tiny", &type), type)
                                  .json();
        const QString id = a["job_id"].toString();
        QDeadlineTimer deadline(120000);
        QJsonObject st;
        do {
            st = http("GET", server.url("/status/" + id)).json();
            QTest::qWait(50);
        } while (!(st["status"] == "running" && st["progress"].toDouble() > 0.05) &&
                 !deadline.hasExpired());
        QCOMPARE(st["status"].toString(), QString("running"));
        QCOMPARE(http("DELETE", server.url("/cleanup/" + a["session_id"].toString())).status, 200);
        QCOMPARE(http("GET", server.url("/status/" + id)).status, 404);
        const QJsonObject b =
            http("POST", server.url("/separate"),
                 formBody(readAll(shortSong(tmp.path(), 2)), "htdemucs_tiny", &type), type)
                .json();
        QCOMPARE(waitForJob(server, b["job_id"].toString())["status"].toString(), QString("done"));
        QTRY_COMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                     QStringList({b["job_id"].toString()}));
        QTest::qWait(500);  // and nothing comes back
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                 QStringList({b["job_id"].toString()}));
    }

    // The app's queue in remote mode (what the window uses when a server is set).
    void jobQueueSeparatesRemotely() {
        QTemporaryDir jobs, tmp, library;
        ServerProcess server;
        QVERIFY(server.start(jobs.path()));
        JobQueue queue;
        JobConfig config;
        config.libraryRoot = library.path();
        config.separation.model = "htdemucs_tiny";
        config.remote = configFor(server);
        queue.setConfig(config);
        QSignalSpy finished(&queue, &JobQueue::itemFinished);
        const int id = queue.enqueue(shortSong(tmp.path(), 2));
        QVERIFY(finished.wait(120000));
        const JobQueue::Item* item = queue.item(id);
        QVERIFY2(item->state == JobQueue::State::Done, qPrintable(item->error));
        const QList<JobRecord> results = Library(library.path()).load();
        QCOMPARE(results.size(), 1);
        QCOMPARE(results[0].stems.size(), 4);
        QCOMPARE(results[0].model, QString("htdemucs_tiny"));
        QVERIFY(std::abs(results[0].durationSeconds - 2.0) < 0.05);
        for (const QString& stem : results[0].stems)
            QVERIFY(decodeAudio(results[0].stemFile(stem).toStdString()).frames() == 88200);
    }
};

QTEST_GUILESS_MAIN(TestServer)
#include "test_server.moc"
