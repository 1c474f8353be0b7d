#pragma once
// Downloads a catalog model into the store with QtNetwork: every file of a bag at once, progress
// with speed and ETA, resume with an HTTP Range after an interruption (within the same call, and
// in a later one from the kept .part file), SHA-256 check, atomic rename. Files already in the
// torch hub cache are reused instead.
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

#include "core/models/catalog.h"
#include "core/models/model_store.h"

class QFile;
class QNetworkReply;

namespace msplit {

struct DownloadProgress {
    qint64 received = 0;  // bytes of the whole model, including resumed parts
    qint64 total = 0;     // 0 while unknown
    double bytesPerSecond = 0;
    double etaSeconds = -1;
};

class ModelDownloader : public QObject {
    Q_OBJECT
public:
    ModelDownloader(ModelStore store, QString baseUrl, QObject* parent = nullptr);
    ~ModelDownloader() override;

    // Starts; `finished` follows exactly once. A model already installed finishes at once.
    void start(const CatalogModel& model);
    // Stops every transfer; partial files are kept so a later start resumes them.
    void cancel();
    bool running() const { return !jobs_.empty(); }

    int retries = 3;  // automatic resumes per file after a dropped connection
    int transferTimeoutMs = 30000;

Q_SIGNALS:
    void progress(const msplit::DownloadProgress& p);
    void message(const QString& text);  // e.g. "reused ... from the torch hub cache"
    void finished(bool ok, const QString& error);

private:
    struct Job;
    void request(Job& job);
    void onData(Job& job);
    void onFinished(Job& job);
    void complete(Job& job);
    void fail(const QString& error);
    void emitProgress();

    ModelStore store_;
    QString baseUrl_;
    CatalogModel model_;
    QNetworkAccessManager network_;
    std::vector<std::unique_ptr<Job>> jobs_;
    QElapsedTimer clock_;
    qint64 startBytes_ = 0;  // resumed bytes, not counted in the speed
    qint64 doneBytes_ = 0;   // files already finished
};

// Blocking form for the command line: runs an event loop until done. Throws Error.
void downloadModel(const ModelStore& store, const std::string& baseUrl, const CatalogModel& model,
                   const std::function<void(const DownloadProgress&)>& onProgress = {},
                   const std::function<void(const QString&)>& onMessage = {});

}  // namespace msplit
