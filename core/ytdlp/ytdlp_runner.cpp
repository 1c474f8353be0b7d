#include "core/ytdlp/ytdlp_runner.h"

#include <signal.h>
#include <unistd.h>

#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUrl>

#include "core/error.h"
#include "core/web_address.h"

namespace msplit {
namespace {

double parseEta(const QString& text) {  // "01:02", "1:02:03", "Unknown"
    const QStringList parts = text.trimmed().split(':');
    double s = 0;
    for (const QString& p : parts) {
        bool ok = false;
        const int v = p.toInt(&ok);
        if (!ok) return -1;
        s = s * 60 + v;
    }
    return s;
}

}  // namespace

YtDlpRunner::YtDlpRunner(QObject* parent) : QObject(parent) {
    stall_.setSingleShot(true);
    connect(&stall_, &QTimer::timeout, this, [this] {
        fail(tr("yt-dlp stopped responding (no output for a while); the download was stopped"));
    });
}

YtDlpRunner::~YtDlpRunner() {
    done_ = true;
    stopProcess();
}

bool YtDlpRunner::running() const {
    return process_ && process_->state() != QProcess::NotRunning;
}

QString YtDlpRunner::findProgram(const QString& configured, QString* error) {
    const QString name = configured.isEmpty() ? QStringLiteral("yt-dlp") : configured;
    const QString found = QFileInfo(name).isAbsolute()
                              ? (QFileInfo(name).isExecutable() ? name : QString())
                              : QStandardPaths::findExecutable(name);
    if (found.isEmpty())
        *error = tr("yt-dlp was not found%1. Install it (Debian/Ubuntu: sudo apt install yt-dlp, "
                    "or pip install "
                    "yt-dlp for the newest) or set its path in Settings.")
                     .arg(configured.isEmpty() ? QString() : " at " + configured);
    return found;
}

QString YtDlpRunner::plainError(const QString& out) {
    const auto has = [&](const char* s) {
        return out.contains(QLatin1String(s), Qt::CaseInsensitive);
    };
    QString detail = out.section('\n', 0, 0).trimmed();
    detail.remove(QRegularExpression("^ERROR:\\s*"));
    if (has("HTTP Error 404")) return tr("The address was not found (HTTP 404): %1").arg(detail);
    if (has("HTTP Error 403"))
        return tr("The site refused the download (HTTP 403); updating yt-dlp often helps: %1")
            .arg(detail);
    if (has("HTTP Error 429"))
        return tr("The site is rate-limiting downloads (HTTP 429); try again later");
    if (has("Private video") || has("members-only"))
        return tr("The video is private: %1").arg(detail);
    if (has("Video unavailable") || has("has been removed"))
        return tr("The video is unavailable: %1").arg(detail);
    if (has("not available in your country") || has("geo restrict"))
        return tr("The video is blocked in your country");
    if (has("Sign in to confirm your age"))
        return tr("The video needs a signed-in, age-verified account");
    if (has("Unsupported URL"))
        return tr("yt-dlp cannot download from this address: %1").arg(detail);
    if (has("Connection refused") || has("Failed to resolve") || has("Name or service not known") ||
        has("Network is unreachable") || has("timed out") || has("Errno"))
        return tr("Cannot reach the site (no network, or the server is down): %1").arg(detail);
    if (has("HTTP Error")) return tr("The site answered with an error: %1").arg(detail);
    return detail.isEmpty() ? tr("yt-dlp failed") : tr("yt-dlp failed: %1").arg(detail);
}

void YtDlpRunner::start(const QString& url, const QString& destination,
                        const YtDlpOptions& options) {
    done_ = false;
    errors_.clear();
    title_.clear();
    pending_.clear();
    destination_ = destination;
    if (!isWebAddress(url)) {
        fail(tr("Not a web address: %1").arg(url));
        return;
    }
    QString error;
    const QString program = findProgram(options.program, &error);
    if (program.isEmpty()) {
        fail(error);
        return;
    }
    QDir().mkpath(destination);
    // Work in a hidden folder beside the destination: a cancelled download leaves nothing behind.
    temp_ = std::make_unique<QTemporaryDir>(destination + "/.yt-dlp-XXXXXX");
    if (!temp_->isValid()) {
        fail(tr("Cannot write to %1").arg(destination));
        return;
    }
    QStringList args{"--newline",
                     "--no-colors",
                     "--no-mtime",
                     "-f",
                     "bestaudio/best",
                     "--progress-template",
                     "download:[progress] "
                     "%(progress._percent_str)s|%(progress._speed_str)s|%(progress._eta_str)s",
                     "--print",
                     "before_dl:[info] %(duration)s|%(title)s",
                     "--print",
                     "after_move:[file] %(filepath)s",
                     "--no-simulate",
                     "--progress",  // --print implies --quiet
                     "-o",
                     temp_->path() + "/%(title).150B [%(id)s].%(ext)s"};
    if (options.maxSeconds > 0)  // unknown durations pass; the separation counts them again
        args << "--match-filter" << QString("duration <=? %1").arg(options.maxSeconds);
    if (options.maxMb > 0) args << "--max-filesize" << QString("%1M").arg(options.maxMb);
    args << (options.playlist ? "--yes-playlist" : "--no-playlist") << "--" << url;
    process_ = new QProcess(this);
    process_->setProcessChannelMode(QProcess::MergedChannels);
    // Its own process group, so that stopping it stops the ffmpeg it starts too.
    process_->setChildProcessModifier([] { setpgid(0, 0); });
    connect(process_, &QProcess::readyRead, this, [this] {
        stall_.start();
        pending_ += process_->readAll();
        int nl;
        while ((nl = pending_.indexOf('\n')) >= 0) {
            onLine(QString::fromUtf8(pending_.left(nl)).trimmed());
            pending_.remove(0, nl + 1);
        }
    });
    connect(process_, &QProcess::finished, this, &YtDlpRunner::onExit);
    connect(process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            fail(tr("yt-dlp could not be started: %1").arg(process_->errorString()));
    });
    stall_.start(options.stallSeconds * 1000);
    process_->start(program, args);
}

void YtDlpRunner::onLine(const QString& line) {
    if (line.startsWith("[progress]")) {
        const QStringList f = line.mid(10).split('|');
        YtDlpProgress p;
        QString percent = f.value(0).trimmed();
        percent.chop(1);
        bool ok = false;
        const double v = percent.toDouble(&ok);
        if (ok) p.fraction = v / 100.0;
        p.speed = f.value(1).trimmed();
        p.etaSeconds = parseEta(f.value(2));
        Q_EMIT progress(p);
    } else if (line.startsWith("[info]")) {
        const QString rest = line.mid(6).trimmed();
        const double duration = rest.section('|', 0, 0).toDouble();
        title_ = rest.section('|', 1);
        Q_EMIT info(title_, duration);
    } else if (line.startsWith("ERROR:")) {
        errors_ += line + '\n';
    }
}

void YtDlpRunner::onExit(int code, QProcess::ExitStatus status) {
    if (done_) return;
    stall_.stop();
    if (status != QProcess::NormalExit || code != 0) {
        fail(errors_.isEmpty() ? tr("yt-dlp stopped with exit code %1").arg(code)
                               : plainError(errors_));
        return;
    }
    QStringList files;
    for (const QFileInfo& f :
         QDir(temp_->path()).entryInfoList(QDir::Files | QDir::NoDotAndDotDot)) {
        if (f.suffix() == "part" || f.suffix() == "ytdl") continue;
        const QString target = destination_ + "/" + f.fileName();
        QFile::remove(target);
        if (QFile::rename(f.absoluteFilePath(), target)) files << target;
    }
    if (files.isEmpty()) {
        fail(tr("yt-dlp finished without producing a file"));
        return;
    }
    done_ = true;
    temp_.reset();
    Q_EMIT finished(files, {});
}

void YtDlpRunner::cancel() {
    if (!running()) return;
    fail(tr("Cancelled"));
}

void YtDlpRunner::fail(const QString& error) {
    if (done_) return;
    done_ = true;
    stall_.stop();
    stopProcess();
    temp_.reset();  // removes the partial files (or has them removed once yt-dlp is gone)
    Q_EMIT finished({}, error);
}

void YtDlpRunner::stopProcess() {
    if (!process_) return;
    QProcess* p = process_;
    process_ = nullptr;
    p->disconnect(this);
    if (p->state() == QProcess::NotRunning) {
        p->deleteLater();
        return;
    }
    // Killed with what it started, without waiting here (the UI thread): the process and the
    // partial files go when it has ended. Until then nothing owns it but its own signal.
    if (p->processId() > 0) ::kill(-static_cast<pid_t>(p->processId()), SIGKILL);
    p->kill();
    p->setParent(nullptr);
    std::shared_ptr<QTemporaryDir> temp(std::move(temp_));
    connect(p, &QProcess::finished, p, [p, temp] { p->deleteLater(); });
}

QStringList downloadWithYtDlp(const QString& url, const QString& destination,
                              const YtDlpOptions& options,
                              const std::function<void(const YtDlpProgress&)>& onProgress) {
    YtDlpRunner runner;
    QEventLoop loop;
    QStringList files;
    QString error;
    QObject::connect(&runner, &YtDlpRunner::progress, [&](const YtDlpProgress& p) {
        if (onProgress) onProgress(p);
    });
    QObject::connect(&runner, &YtDlpRunner::finished, [&](const QStringList& f, const QString& e) {
        files = f;
        error = e;
        loop.quit();
    });
    QTimer::singleShot(0, &runner, [&] { runner.start(url, destination, options); });
    loop.exec();
    if (!error.isEmpty()) throw Error(ErrorKind::Network, url.toStdString(), error.toStdString());
    return files;
}

}  // namespace msplit
