#pragma once
// One song separated by a Music Split server (the hosted service or music-split-server): upload
// (or hand over a web address), poll with backoff, download the FLAC stems, clean up the session.
// 429 waits as Retry-After says; every failure ends in one plain sentence; cancel works at any
// point and leaves no files.
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QUrl>

class QNetworkReply;
class QSaveFile;

namespace msplit {

struct RemoteConfig {
    QUrl server;                    // e.g. http://gpu-box:8000; invalid: separate locally
    QString token;                  // sent as a bearer token when not empty
    int transferTimeoutMs = 60000;  // a request that moves no data this long fails
    int pollMinMs = 500;
    int pollMaxMs = 5000;
    int maxBusyRetries = 30;  // 429 answers before giving up
    int maxPollFailures = 5;  // network errors in a row while the job runs
    int maxRetryAfterSeconds = 120;

    bool enabled() const { return server.isValid() && !server.host().isEmpty(); }
};

// A request to the server's `path`, with the token and the transfer timeout.
QNetworkRequest remoteRequest(const RemoteConfig& config, const QString& path);
// The reply's failure as a sentence ("... while DOING ..."), or empty when it succeeded.
QString remoteReplyError(const RemoteConfig& config, QNetworkReply* reply, const QString& doing);

// A GET /status answer, read.
struct RemoteStatus {
    QString state;        // pending, running or done
    QString problem;      // why the job ends here (the server's error, an unreadable answer)
    double progress = 0;  // 0-1 while it runs
    QStringList stems;    // done: safe file names, in the model's order
    QStringList paths;    // done: where each stem is fetched from
};
// Reads a status answer; `downloadTemplate` ("/download/SESSION/{stem}") places stems the answer
// gives no address for. Never throws: what cannot be used is a `problem`.
RemoteStatus readRemoteStatus(const QByteArray& body, const QString& downloadTemplate);

class RemoteJob : public QObject {
    Q_OBJECT
public:
    explicit RemoteJob(RemoteConfig config, QObject* parent = nullptr);
    ~RemoteJob() override;

    // `source`: a local file, or a web address that the server downloads itself. The stems are
    // written to `outDir` as STEM.flac.
    void start(const QString& source, const QString& model, const QString& outDir);
    void cancel();
    QString sessionId() const { return session_; }

Q_SIGNALS:
    void progress(double fraction, const QString& stage);
    void finished(const QStringList& stems, const QStringList& files);
    void failed(const QString& error, bool cancelled);

private:
    QNetworkRequest request(const QString& path) const { return remoteRequest(config_, path); }
    void submit();
    void after(int ms, void (RemoteJob::*step)());  // one pending step; end() stops it
    void onSubmitted();
    void poll();
    void onStatus();
    void downloadNext();
    void onDownloaded();
    void end(const QString& error, bool cancelled = false);
    QNetworkReply* cleanupSession();  // null when there is no session
    QString replyError(QNetworkReply* reply, const QString& doing) const {
        return remoteReplyError(config_, reply, doing);
    }
    QNetworkReply* track(QNetworkReply* reply);

    RemoteConfig config_;
    QNetworkAccessManager net_;
    QPointer<QNetworkReply> reply_;
    QTimer timer_;
    QString source_, model_, outDir_;
    QString jobId_, session_, statusPath_, downloadTemplate_;
    QStringList stems_, stemPaths_, files_;
    QSaveFile* file_ = nullptr;
    int busyRetries_ = 0, pollFailures_ = 0, pollInterval_ = 0;
    bool ended_ = false;
};

}  // namespace msplit
