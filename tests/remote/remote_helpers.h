#pragma once
// Helpers for the remote-separation tests: the real music-split-server as a child process on
// 127.0.0.1, blocking HTTP requests, one RemoteJob run to its end, and short test songs.
#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/remote/remote_job.h"
#include "tests/common/fixtures.h"

namespace msplit::test {

class ServerProcess {
public:
    // Starts music-split-server on a free port with the fixture models unless `args` names a repo.
    // `shell`: commands sh runs before it becomes the server (limits such as `ulimit -f`).
    bool start(const QString& jobsDir, QStringList args = {}, const QString& shell = {}) {
        if (!args.contains("--repo")) args << "--repo" << repoDir();
        if (!args.contains("--port"))
            args << "--port"
                 << "0";
        args << "--jobs-dir" << jobsDir << "--jobs"
             << "1";
        process_.setProcessChannelMode(QProcess::SeparateChannels);
        if (shell.isEmpty())
            process_.start(MUSIC_SPLIT_SERVER, args);
        else
            process_.start(
                "sh", QStringList{"-c", shell + "; exec \"$0\" \"$@\"", MUSIC_SPLIT_SERVER} + args);
        if (!process_.waitForStarted(10000)) return false;
        QDeadlineTimer deadline(30000);
        QByteArray out;
        static const QRegularExpression listening("listening on (http://\\S+)");
        while (!deadline.hasExpired() && process_.state() == QProcess::Running) {
            process_.waitForReadyRead(200);
            out += process_.readAllStandardOutput();
            const auto m = listening.match(QString::fromUtf8(out));
            if (m.hasMatch()) {
                url_ = QUrl(m.captured(1));
                return true;
            }
        }
        qWarning() << "server did not start:" << out << process_.readAllStandardError();
        return false;
    }
    const QUrl& url() const { return url_; }
    QUrl url(const QString& path) const { return url_.resolved(QUrl(path)); }
    bool running() const { return process_.state() == QProcess::Running; }
    qint64 pid() const { return process_.processId(); }
    QByteArray readStderr() {
        process_.waitForReadyRead(100);
        return process_.readAllStandardError();
    }
    void kill() {  // as a crash or power cut would: no chance to tidy up
        process_.kill();
        process_.waitForFinished(10000);
    }
    ~ServerProcess() {
        if (running()) kill();
    }

private:
    QProcess process_;
    QUrl url_;
};

struct HttpReply {
    int status = 0;  // 0: no HTTP answer
    QByteArray body;
    QByteArray header(const QByteArray& name) const { return headers.value(name.toLower()); }
    QMap<QByteArray, QByteArray> headers;  // lower-case names
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

inline HttpReply http(const QByteArray& method, const QUrl& url, const QByteArray& body = {},
                      const QByteArray& contentType = {}, const QByteArray& token = {}) {
    QNetworkAccessManager net;
    QNetworkRequest req(url);
    req.setTransferTimeout(60000);
    if (!contentType.isEmpty()) req.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    if (!token.isEmpty()) req.setRawHeader("Authorization", "Bearer " + token);
    QNetworkReply* reply = net.sendCustomRequest(req, method, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    HttpReply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    for (const auto& [k, v] : reply->rawHeaderPairs())
        r.headers[k.toLower()] = v;
    delete reply;
    return r;
}

// Polls a job until it leaves pending/running; returns its last status reply.
// The client's settings for `server`, polling fast.
inline RemoteConfig configFor(const ServerProcess& server, const QString& token = {}) {
    RemoteConfig c;
    c.server = server.url();
    c.token = token;
    c.pollMinMs = 100;
    c.pollMaxMs = 500;
    return c;
}

inline QJsonObject waitForJob(const ServerProcess& server, const QString& jobId,
                              int seconds = 120) {
    QDeadlineTimer deadline(seconds * 1000);
    QJsonObject o;
    while (!deadline.hasExpired()) {
        o = http("GET", server.url("/status/" + jobId)).json();
        if (o["status"] != "pending" && o["status"] != "running") return o;
        QTest::qWait(100);
    }
    return o;
}

// A multipart/form-data body with a file field and a model name, as browsers and clients send.
inline QByteArray formBody(const QByteArray& file, const QByteArray& model, QByteArray* type) {
    const QByteArray boundary = "----music-split-test-boundary";
    *type = "multipart/form-data; boundary=" + boundary;
    QByteArray b;
    b += "--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; "
         "filename=\"song.wav\"\r\nContent-Type: audio/wav\r\n\r\n" +
         file + "\r\n";
    if (!model.isEmpty())
        b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"model_name\"\r\n\r\n" +
             model + "\r\n";
    b += "--" + boundary + "--\r\n";
    return b;
}

inline QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

struct JobOutcome {
    QStringList stems, files;
    QString error;
    bool cancelled = false;
    bool ended = false;
};

// Runs one RemoteJob to its end (or `onProgress` may cancel it).
inline JobOutcome runRemote(
    const RemoteConfig& config, const QString& source, const QString& model, const QString& outDir,
    const std::function<void(RemoteJob&, const QString&)>& onProgress = {}) {
    RemoteJob job(config);
    JobOutcome o;
    QEventLoop loop;
    QObject::connect(&job, &RemoteJob::progress, [&](double, const QString& stage) {
        if (onProgress) onProgress(job, stage);
    });
    QObject::connect(&job, &RemoteJob::finished, [&](const QStringList& s, const QStringList& f) {
        o.stems = s;
        o.files = f;
        o.ended = true;
        loop.quit();
    });
    QObject::connect(&job, &RemoteJob::failed, [&](const QString& e, bool c) {
        o.error = e;
        o.cancelled = c;
        o.ended = true;
        loop.quit();
    });
    job.start(source, model, outDir);
    if (!o.ended) loop.exec();
    return o;
}

// The first `seconds` of the htdemucs_tiny case's input, as a float WAV in `dir`.
inline QString shortSong(const QString& dir, double seconds) {
    AudioBuffer a = decodeAudio((caseDir("htdemucs_tiny") + "/input.wav").toStdString(), 44100, 2);
    const int64_t frames = std::min<int64_t>(a.frames(), int64_t(seconds * 44100));
    AudioBuffer cut;
    cut.samples.resize(size_t(frames) * 2);
    for (int c = 0; c < 2; ++c)
        std::copy(a.channel(c), a.channel(c) + frames, cut.samples.begin() + c * frames);
    const QString path = dir + QString("/song-%1s.wav").arg(seconds);
    EncodeOptions e;
    e.depth = SampleFormat::Float32;
    e.clip = ClipMode::None;
    encodeAudio(path.toStdString(), cut, e);
    return path;
}

}  // namespace msplit::test
