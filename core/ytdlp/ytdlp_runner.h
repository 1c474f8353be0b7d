#pragma once
// Downloads the audio of a web page (YouTube or any site yt-dlp supports) with the yt-dlp program:
// best audio stream, progress with speed and ETA, title and duration as soon as yt-dlp knows them,
// cancel, and errors in plain words. Files appear in the destination only when complete.
#include <QObject>
#include <QProcess>
#include <QString>
#include <QTimer>

#include <functional>
#include <memory>

class QTemporaryDir;

namespace msplit {

struct YtDlpOptions {
    QString program;        // empty: "yt-dlp" from PATH
    bool playlist = false;  // the whole playlist instead of the one video
    int stallSeconds = 60;  // give up when yt-dlp prints nothing for this long
    double maxSeconds = 0;  // refuse longer media before downloading (0: any)
    double maxMb = 0;       // refuse larger downloads (0: any)
};

struct YtDlpProgress {
    double fraction = -1;  // -1 while unknown
    QString speed;         // as yt-dlp prints it, e.g. "1.20MiB/s"
    double etaSeconds = -1;
};

class YtDlpRunner : public QObject {
    Q_OBJECT
public:
    explicit YtDlpRunner(QObject* parent = nullptr);
    ~YtDlpRunner() override;

    void start(const QString& url, const QString& destination, const YtDlpOptions& options = {});
    void cancel();  // kills yt-dlp and removes what it had written
    bool running() const;

    // The program that would run, or an explanation of why there is none.
    static QString findProgram(const QString& configured, QString* error);
    // yt-dlp's error lines turned into a sentence for users.
    static QString plainError(const QString& ytdlpOutput);

Q_SIGNALS:
    void info(const QString& title, double durationSeconds);
    void progress(const msplit::YtDlpProgress& p);
    void finished(const QStringList& files, const QString& error);  // error empty on success

private:
    void onLine(const QString& line);
    void onExit(int code, QProcess::ExitStatus status);
    void fail(const QString& error);

    void stopProcess();
    QProcess* process_ = nullptr;
    std::unique_ptr<QTemporaryDir> temp_;
    QString destination_;
    QString title_;
    QString errors_;
    QByteArray pending_;
    QTimer stall_;
    bool done_ = false;
};

// For the command line: downloads into `destination` and returns the files. Throws Error.
QStringList downloadWithYtDlp(const QString& url, const QString& destination,
                              const YtDlpOptions& options,
                              const std::function<void(const YtDlpProgress&)>& onProgress = {});

}  // namespace msplit

Q_DECLARE_METATYPE(msplit::YtDlpProgress)
