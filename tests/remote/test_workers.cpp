// Scale-out as a team would run it, all real and on 127.0.0.1: redis-server, an API node
// (music-split-server --broker) and music-split-worker processes with their own folders. Jobs wait
// with no worker, are shared by two, survive a worker killed mid-job and an API node restart, and
// come back equal to a local separation; a job is finished once; Redis lost and found again.
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

#include "core/jobs/separation.h"
#include "tests/common/file_server.h"
#include "tests/common/redis_server.h"
#include "tests/remote/remote_helpers.h"

using namespace msplit;
using namespace msplit::test;

namespace {

class WorkerProcess {
public:
    bool start(const QString& broker, const QString& jobsDir, const QString& name,
               QStringList args = {}) {
        if (!args.contains("--repo")) args << "--repo" << repoDir();
        args << "--broker" << broker << "--jobs-dir" << jobsDir << "--name" << name << "--jobs"
             << "1"
             << "--shifts"
             << "0"
             << "--visibility-timeout"
             << "5";
        process_.start(MUSIC_SPLIT_WORKER, args);
        if (!process_.waitForStarted(10000)) return false;
        QDeadlineTimer deadline(20000);
        QByteArray out;
        while (!deadline.hasExpired() && process_.state() == QProcess::Running) {
            process_.waitForReadyRead(100);
            out += process_.readAllStandardOutput();
            if (out.contains("ready")) return true;
        }
        qWarning() << "worker did not start:" << out << process_.readAllStandardError();
        return false;
    }
    void kill() {
        process_.kill();  // SIGKILL: no chance to tidy up
        process_.waitForFinished(10000);
    }
    QProcess& process() { return process_; }
    ~WorkerProcess() {
        if (process_.state() == QProcess::Running) kill();
    }

private:
    QProcess process_;
};

QString submit(const ServerProcess& api, const QString& song, const QByteArray& model) {
    QByteArray type;
    const HttpReply r =
        http("POST", api.url("/separate"), formBody(readAll(song), model, &type), type);
    if (r.status != 200) qWarning() << "submit:" << r.status << r.body;
    return r.json()["job_id"].toString();
}

QJsonObject status(const ServerProcess& api, const QString& id) {
    return http("GET", api.url("/status/" + id)).json();
}

bool active(const QJsonObject& s) {
    return s["status"] == "pending" || s["status"] == "running";
}

// The largest difference between a downloaded stem and the same stem separated here.
double worstDifference(const QByteArray& flac, const QString& dir, const AudioBuffer& local) {
    const QString path = dir + "/stem.flac";
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(flac);
    f.close();
    const AudioBuffer got = decodeAudio(path.toStdString(), 44100, 2);
    if (got.frames() != local.frames()) return 1e9;
    double worst = 0;
    for (size_t k = 0; k < got.samples.size(); ++k)
        worst = std::max(worst, double(std::abs(got.samples[k] - local.samples[k])));
    return worst;
}

// The fixture's song played `times` over, as a WAV in `dir`: a job that runs for a while.
QString longSong(const QString& dir, int times) {
    const AudioBuffer a =
        decodeAudio((caseDir("htdemucs_tiny") + "/input.wav").toStdString(), 44100, 2);
    const int64_t n = a.frames();
    AudioBuffer out;
    out.samples.resize(size_t(n * times) * 2);
    for (int c = 0; c < 2; ++c)
        for (int t = 0; t < times; ++t)
            std::copy(a.channel(c), a.channel(c) + n, out.samples.begin() + c * n * times + t * n);
    const QString path = dir + "/long.wav";
    encodeAudio(path.toStdString(), out, EncodeOptions{});
    return path;
}

QJsonObject readJson(const QString& path) {
    return QJsonDocument::fromJson(readAll(path)).object();
}

}  // namespace

class TestWorkers : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QVERIFY2(QFile::exists(repoDir()), "the shared Demucs fixtures are missing");
        engine::setThreads(1);  // as the workers (--jobs 1): the same results to the last bit
    }

    void workersShareJobsSurviveKillsAndRestarts() {
        RedisServer redis;
        QVERIFY(redis.start());
        QTemporaryDir apiJobs, w1Jobs, w2Jobs, tmp;
        const QString port = QString::number(closedPort());
        const QStringList apiArgs = {"--broker", redis.url(), "--port", port, "--shifts", "0"};
        auto api = std::make_unique<ServerProcess>();
        QVERIFY(api->start(apiJobs.path(), apiArgs));

        // Four songs queued with no worker running: they wait.
        QStringList songs, ids;
        for (double seconds : {3.0, 4.0, 5.0, 6.0}) {
            songs << shortSong(tmp.path(), seconds);
            ids << submit(*api, songs.last(), "htdemucs_tiny");
            QVERIFY(!ids.last().isEmpty());
        }
        QTest::qWait(1500);
        for (const QString& id : ids)
            QCOMPARE(status(*api, id)["status"].toString(), QString("pending"));
        QJsonObject health = http("GET", api->url("/health")).json();
        QCOMPARE(health["workers"].toInt(), 0);
        QCOMPARE(health["queued"].toInt(), 4);
        QVERIFY(http("GET", api->url("/metrics"))
                    .body.contains("music_split_queue_jobs{state=\"waiting\"} 4"));

        // Two workers start; the one that takes a job first is killed while it runs it.
        WorkerProcess w1, w2;
        QVERIFY(w1.start(redis.url(), w1Jobs.path(), "w1"));
        QVERIFY(w2.start(redis.url(), w2Jobs.path(), "w2"));
        QString victim, victimJob;
        QDeadlineTimer deadline(60000);
        while (victim.isEmpty() && !deadline.hasExpired()) {
            for (const QString& id : ids)
                if (const QJsonObject s = status(*api, id); s["status"] == "running") {
                    victim = s["worker"].toString();
                    victimJob = id;
                    break;
                }
            QTest::qWait(20);
        }
        QVERIFY2(victim == "w1" || victim == "w2", qPrintable(victim));
        (victim == "w1" ? w1 : w2).kill();
        const QString survivor = victim == "w1" ? "w2" : "w1";

        // The API node dies too (kill -9) and comes back on its port: it loses nothing.
        api->kill();
        QTest::qWait(500);
        api = std::make_unique<ServerProcess>();
        QVERIFY(api->start(apiJobs.path(), apiArgs));

        QDeadlineTimer all(240000);
        QList<QJsonObject> ends;
        for (const QString& id : ids) {
            QJsonObject s;
            while (active(s = status(*api, id)) && !all.hasExpired())
                QTest::qWait(200);
            ends << s;
        }
        SeparationSettings local;
        local.repo = repoDir().toStdString();
        local.model = "htdemucs_tiny";
        local.options.shifts = 0;
        local.device = "cpu";
        const LoadedModel model = loadSeparationModel(local);
        for (int i = 0; i < ids.size(); ++i) {
            const QJsonObject& s = ends[i];
            QVERIFY2(s["status"] == "done", QJsonDocument(s).toJson().constData());
            if (ids[i] == victimJob) QCOMPARE(s["worker"].toString(), survivor);
            QCOMPARE(s["stems"].toArray().size(), 4);
            const auto stems =
                separateAudio(model, decodeAudio(songs[i].toStdString(), 44100, 2), local);
            for (const Stem& stem : stems) {
                const HttpReply got = http(
                    "GET",
                    api->url(s["result"].toObject()[QString::fromStdString(stem.name)].toString()));
                QCOMPARE(got.status, 200);
                // 24-bit FLAC: half a step of 2^-23, plus float rounding.
                const double worst = worstDifference(got.body, tmp.path(), stem.audio);
                QVERIFY2(worst <= 0.51 / 8388608.0 + 1e-7,
                         qPrintable(QString("%1 of job %2 differs by %3")
                                        .arg(stem.name.c_str())
                                        .arg(i)
                                        .arg(worst)));
            }
            // One result kept: the song, the record and the stems; no attempt's leftovers.
            QCOMPARE(QDir(apiJobs.path() + "/" + ids[i])
                         .entryList(QDir::AllEntries | QDir::NoDotAndDotDot),
                     QStringList({"input.wav", "job.json", "stems"}));
        }
        // Every entry left the stream; the killed worker dropped out of the list.
        QTRY_VERIFY_WITH_TIMEOUT(http("GET", api->url("/health")).json()["workers"].toInt() == 1,
                                 15000);
        const QByteArray metrics = http("GET", api->url("/metrics")).body;
        QVERIFY(metrics.contains("music_split_queue_jobs{state=\"waiting\"} 0"));
        QVERIFY(metrics.contains("music_split_queue_jobs{state=\"taken\"} 0"));
        // The survivor's scratch folder is empty again.
        QTRY_COMPARE(QDir(survivor == "w1" ? w1Jobs.path() : w2Jobs.path())
                         .entryList(QDir::Dirs | QDir::NoDotAndDotDot)
                         .size(),
                     0);
    }

    // The API node keeps one result per job: the newest "started" owns it, and an older attempt's
    // reports and stems are refused (409), so a worker thought dead cannot overwrite or finish.
    void aJobIsFinishedOnce() {
        RedisServer redis;
        QVERIFY(redis.start());
        QTemporaryDir jobs, tmp;
        ServerProcess api;
        QVERIFY(api.start(jobs.path(), {"--broker", redis.url()}));
        const QString id = submit(api, shortSong(tmp.path(), 2), "htdemucs_tiny");
        const QByteArray token =
            readJson(jobs.path() + "/" + id + "/job.json")["token"].toString().toLatin1();
        QCOMPARE(token.size(), 64);
        auto post = [&](const QJsonObject& o, const QByteArray& key) {
            QNetworkAccessManager net;
            QNetworkRequest req(api.url("/internal/jobs/" + id + "/report"));
            req.setRawHeader("X-Job-Token", key);
            req.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
            QNetworkReply* reply = net.post(req, QJsonDocument(o).toJson());
            QSignalSpy done(reply, &QNetworkReply::finished);
            done.wait(10000);
            const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            delete reply;
            return code;
        };
        auto put = [&](const QString& stem, const QByteArray& attempt) {
            QNetworkAccessManager net;
            QNetworkRequest req(api.url("/internal/jobs/" + id + "/stems/" + stem));
            req.setRawHeader("X-Job-Token", token);
            req.setRawHeader("X-Attempt", attempt);
            QNetworkReply* reply = net.put(req, QByteArray("fLaC-from-" + attempt));
            QSignalSpy done(reply, &QNetworkReply::finished);
            done.wait(10000);
            const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            delete reply;
            return code;
        };
        const QJsonObject a{{"state", "started"}, {"worker", "a"}, {"attempt", "1@a"}};
        QCOMPARE(post(a, "wrong"), 404);  // another key touches nothing
        QCOMPARE(http("GET", api.url("/internal/jobs/" + id + "/input")).status, 404);
        QCOMPARE(post(a, token), 200);
        QCOMPARE(put("vocals", "1@a"), 200);
        QCOMPARE(status(api, id)["worker"].toString(), QString("a"));
        // Worker b claims it (a was silent too long): a is told to stop.
        QCOMPARE(post({{"state", "started"}, {"worker", "b"}, {"attempt", "2@b"}}, token), 200);
        QCOMPARE(post({{"state", "progress"}, {"attempt", "1@a"}, {"progress", 0.5}}, token), 409);
        QCOMPARE(put("vocals", "1@a"), 409);
        QCOMPARE(
            post({{"state", "done"}, {"attempt", "1@a"}, {"stems", QJsonArray{"vocals"}}}, token),
            409);
        QCOMPARE(
            post({{"state", "done"}, {"attempt", "2@b"}, {"stems", QJsonArray{"vocals"}}}, token),
            400);
        QCOMPARE(put("../vocals", "2@b"), 404);  // not a stem name: no route matches
        QCOMPARE(put("vocals", "2@b"), 200);
        QCOMPARE(
            post({{"state", "done"}, {"attempt", "2@b"}, {"stems", QJsonArray{"vocals"}}}, token),
            200);
        QCOMPARE(
            post({{"state", "done"}, {"attempt", "2@b"}, {"stems", QJsonArray{"vocals"}}}, token),
            410);  // the job has ended
        const QJsonObject s = status(api, id);
        QCOMPARE(s["status"].toString(), QString("done"));
        QCOMPARE(s["worker"].toString(), QString("b"));
        const HttpReply stem = http("GET", api.url(s["result"].toObject()["vocals"].toString()));
        QCOMPARE(stem.body, QByteArray("fLaC-from-2@b"));
        QVERIFY(!s.contains("token"));  // the key never reaches clients
    }

    // Redis down: the node answers 503 with the reason and recovers by itself; a worker started
    // meanwhile waits with growing pauses and takes the job once Redis is back.
    void redisLostAndFound() {
        QTemporaryDir jobs, wJobs, tmp;
        const int port = closedPort();
        const QString url = QString("redis://127.0.0.1:%1").arg(port);
        ServerProcess api;
        QVERIFY(api.start(jobs.path(), {"--broker", url, "--shifts", "0"}));
        HttpReply health = http("GET", api.url("/health"));
        QCOMPARE(health.status, 503);
        QVERIFY2(health.json()["broker"].toString().contains("cannot connect to Redis"),
                 health.body.constData());
        QByteArray type;
        const HttpReply refused =
            http("POST", api.url("/separate"),
                 formBody(readAll(shortSong(tmp.path(), 2)), "htdemucs_tiny", &type), type);
        QCOMPARE(refused.status, 503);
        QVERIFY2(refused.json()["detail"].toString().contains("job queue is unavailable"),
                 refused.body.constData());
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(),
                 0);  // nothing kept

        WorkerProcess worker;
        QVERIFY(worker.start(url, wJobs.path(), "late"));
        RedisServer redis;
        QVERIFY(redis.start(port));
        QTRY_COMPARE_WITH_TIMEOUT(http("GET", api.url("/health")).status, 200, 10000);
        const QString id = submit(api, shortSong(tmp.path(), 2), "htdemucs_tiny");
        QVERIFY(!id.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(status(api, id)["status"].toString(), QString("done"), 60000);
        QCOMPARE(status(api, id)["worker"].toString(), QString("late"));

        // Lost later (restarted empty): 503 meanwhile, then both sides carry on by themselves.
        redis.stop();
        QTRY_COMPARE_WITH_TIMEOUT(http("GET", api.url("/health")).status, 503, 10000);
        QVERIFY(redis.start(port));
        QTRY_COMPARE_WITH_TIMEOUT(http("GET", api.url("/health")).status, 200, 10000);
        const QString again = submit(api, shortSong(tmp.path(), 2), "htdemucs_tiny");
        QVERIFY(!again.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(status(api, again)["status"].toString(), QString("done"), 90000);
    }

    // A job that fails on a worker ends as an error with the worker's reason; one whose workers
    // keep dying is given up after --max-attempts deliveries, not retried forever.
    void failuresEndAsErrors() {
        RedisServer redis;
        QVERIFY(redis.start());
        QTemporaryDir jobs, brokenRepo, aJobs, bJobs, tmp;
        QVERIFY(QFile::copy(repoDir() + "/htdemucs_tiny.yaml",
                            brokenRepo.path() + "/htdemucs_tiny.yaml"));
        QFile th(brokenRepo.path() + "/91f11081-2942f0c2.th");
        QVERIFY(th.open(QIODevice::WriteOnly));
        th.write(readAll(repoDir() + "/91f11081-2942f0c2.th").left(5000));  // cut short
        th.close();
        ServerProcess api;
        QVERIFY(api.start(jobs.path(), {"--broker", redis.url()}));
        {
            WorkerProcess broken;
            QVERIFY(
                broken.start(redis.url(), aJobs.path(), "broken", {"--repo", brokenRepo.path()}));
            const QString id = submit(api, shortSong(tmp.path(), 2), "htdemucs_tiny");
            QTRY_VERIFY_WITH_TIMEOUT(!active(status(api, id)), 30000);
            const QJsonObject s = status(api, id);
            QCOMPARE(s["status"].toString(), QString("error"));
            QCOMPARE(s["worker"].toString(), QString("broken"));
            QVERIFY2(!s["error"].toString().isEmpty(), QJsonDocument(s).toJson().constData());
        }
        // Killed mid-job with one attempt allowed: the next worker reports it instead of running
        // it.
        WorkerProcess a;
        QVERIFY(a.start(redis.url(), aJobs.path(), "a", {"--max-attempts", "1"}));
        const QString id = submit(api, longSong(tmp.path(), 6), "htdemucs_tiny");
        QTRY_COMPARE_WITH_TIMEOUT(status(api, id)["status"].toString(), QString("running"), 30000);
        a.kill();
        WorkerProcess b;
        QVERIFY(b.start(redis.url(), bJobs.path(), "b", {"--max-attempts", "1"}));
        QTRY_VERIFY_WITH_TIMEOUT(!active(status(api, id)), 30000);
        const QJsonObject s = status(api, id);
        QCOMPARE(s["status"].toString(), QString("error"));
        QVERIFY2(s["error"].toString().contains("gave up after 1 tries"),
                 QJsonDocument(s).toJson().constData());
        const QByteArray metrics = http("GET", api.url("/metrics")).body;
        QVERIFY(metrics.contains("music_split_queue_jobs{state=\"taken\"} 0"));
    }

    void wrongPasswordIsOneLineAtStart() {
        RedisServer redis;
        QVERIFY(redis.start(0, {"--requirepass", "right"}));
        QTemporaryDir jobs, tmp;
        const QString wrong = QString("redis://:wrong@127.0.0.1:%1").arg(redis.port());
        QProcess server;
        server.start(MUSIC_SPLIT_SERVER,
                     {"--broker", wrong, "--port", "0", "--jobs-dir", jobs.path()});
        QVERIFY(server.waitForFinished(20000));
        QCOMPARE(server.exitCode(), 1);
        const QString err = QString::fromUtf8(server.readAllStandardError()).trimmed();
        QVERIFY2(err.startsWith("music-split-server: ") && err.contains("refused") &&
                     !err.contains('\n') && !err.contains("wrong"),
                 qPrintable(err));  // the password is not repeated
        QProcess worker;
        worker.start(MUSIC_SPLIT_WORKER, {"--broker", wrong, "--jobs-dir", jobs.path()});
        QVERIFY(worker.waitForFinished(20000));
        QCOMPARE(worker.exitCode(), 1);
        QVERIFY(QString::fromUtf8(worker.readAllStandardError()).contains("refused"));
        // A URL that is not Redis' is a usage error (2), named, for both programs.
        for (const char* program : {MUSIC_SPLIT_SERVER, MUSIC_SPLIT_WORKER}) {
            QProcess p;
            p.start(program, {"--broker", "http://127.0.0.1:1", "--jobs-dir", jobs.path()});
            QVERIFY(p.waitForFinished(20000));
            QCOMPARE(p.exitCode(), 2);
            QVERIFY2(p.readAllStandardError().contains("expected redis://"), program);
        }
        // The right one from a file.
        const QString file = tmp.path() + "/password";
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("right\n");
        f.close();
        WorkerProcess ok;
        QVERIFY(ok.start(QString("redis://127.0.0.1:%1").arg(redis.port()), jobs.path(), "p",
                         {"--broker-password-file", file}));
    }

    // Cleaning up a session reaches the worker running it: it stops at its next beat (2 s), not
    // at the end of the song, and takes the next job.
    void cleanupStopsTheWorkersJob() {
        RedisServer redis;
        QVERIFY(redis.start());
        QTemporaryDir jobs, wJobs, tmp;
        ServerProcess api;
        QVERIFY(api.start(jobs.path(), {"--broker", redis.url()}));
        WorkerProcess worker;
        QVERIFY(worker.start(redis.url(), wJobs.path(), "w"));
        QByteArray type;
        const QJsonObject first =
            http("POST", api.url("/separate"),
                 formBody(readAll(longSong(tmp.path(), 12)), "htdemucs_tiny", &type), type)
                .json();
        const QString second = submit(api, shortSong(tmp.path(), 2), "htdemucs_tiny");
        QTRY_COMPARE_WITH_TIMEOUT(status(api, first["job_id"].toString())["status"].toString(),
                                  QString("running"), 30000);
        QTest::qWait(1000);  // separating now
        QCOMPARE(http("DELETE", api.url("/cleanup/" + first["session_id"].toString())).status, 200);
        QElapsedTimer clock;
        clock.start();
        QTRY_COMPARE_WITH_TIMEOUT(status(api, second)["status"].toString(), QString("running"),
                                  20000);
        // A 108 s song takes the worker far longer than this on one thread.
        QVERIFY2(clock.elapsed() < 8000, qPrintable(QString::number(clock.elapsed())));
        QTRY_COMPARE_WITH_TIMEOUT(status(api, second)["status"].toString(), QString("done"), 60000);
        QCOMPARE(QDir(jobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot),
                 QStringList({second}));
        QTRY_COMPARE(QDir(wJobs.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
    }

    // A worker without the job's model hands it on to one that has it; with none, it fails saying
    // so.
    void aMissingModelGoesToAWorkerThatHasIt() {
        RedisServer redis;
        QVERIFY(redis.start());
        QTemporaryDir jobs, smallRepo, aJobs, bJobs, tmp;
        for (const char* f : {"htdemucs_tiny.yaml", "91f11081-2942f0c2.th"})
            QVERIFY(QFile::copy(repoDir() + "/" + f, smallRepo.path() + "/" + f));
        ServerProcess api;
        QVERIFY(api.start(jobs.path(), {"--broker", redis.url(), "--shifts", "0"}));
        WorkerProcess a;
        QVERIFY(a.start(redis.url(), aJobs.path(), "a", {"--repo", smallRepo.path()}));
        QTRY_COMPARE_WITH_TIMEOUT(http("GET", api.url("/health")).json()["workers"].toInt(), 1,
                                  10000);
        const QString song = shortSong(tmp.path(), 2);
        const QString lost = submit(api, song, "hdemucs_tiny");
        QTRY_VERIFY_WITH_TIMEOUT(!active(status(api, lost)), 30000);
        QCOMPARE(status(api, lost)["status"].toString(), QString("error"));
        QVERIFY2(status(api, lost)["error"].toString().contains(
                     "no worker has the model 'hdemucs_tiny'"),
                 qPrintable(status(api, lost)["error"].toString()));

        WorkerProcess b;
        QVERIFY(b.start(redis.url(), bJobs.path(), "b"));
        QTRY_COMPARE_WITH_TIMEOUT(http("GET", api.url("/health")).json()["workers"].toInt(), 2,
                                  10000);
        const QJsonArray devices = http("GET", api.url("/device")).json()["workers"].toArray();
        QCOMPARE(devices.size(), 2);
        const QString found = submit(api, song, "hdemucs_tiny");
        QTRY_VERIFY_WITH_TIMEOUT(!active(status(api, found)), 60000);
        QCOMPARE(status(api, found)["status"].toString(), QString("done"));
        QCOMPARE(status(api, found)["worker"].toString(), QString("b"));
    }
};

QTEST_MAIN(TestWorkers)
#include "test_workers.moc"
