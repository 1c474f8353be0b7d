#pragma once
// The Models dialog: the catalog with stems, size on disk and state; download (with progress and
// cancel), import a .th file or folder, remove, and the cache's disk use.
#include <QDialog>

#include "core/models/catalog.h"
#include "core/models/model_store.h"

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
    QTreeWidget* table() const { return table_; }
    QString lastError() const { return lastError_; }

Q_SIGNALS:
    void downloadFinished(bool ok);

private:
    void refresh();
    QString selected() const;
    Catalog catalog_;
    ModelStore store_;
    QTreeWidget* table_;
    QLabel* usage_;
    QProgressBar* progress_;
    QPushButton* download_;
    QPushButton* cancel_;
    ModelDownloader* downloader_ = nullptr;
    QString lastError_;
};

// The shipped catalog, or the one the settings name ("models/catalog", "models/baseUrl": a mirror,
// a test server). Throws Error.
Catalog appCatalog();

// Asks to download a catalog model that the cache lacks; returns whether it is there now.
// Names the catalog does not know are assumed present (the repository decides).
bool ensureModelInstalled(QWidget* parent, const QString& name);

}  // namespace msplit::ui
