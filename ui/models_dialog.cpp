#include "ui/models_dialog.h"

#include <QDirIterator>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/error.h"
#include "core/models/downloader.h"
#include "core/settings.h"
#include "ui/job_item_widget.h"

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
    auto* import = new QPushButton(tr("Import…"), this);
    auto* remove = new QPushButton(tr("Remove"), this);
    auto* close = new QPushButton(tr("Close"), this);
    auto* buttons = new QHBoxLayout;
    for (auto* b : {download_, cancel_, import, remove})
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
        if (downloader_) downloader_->cancel();
        progress_->hide();
        cancel_->hide();
        download_->setEnabled(true);
    });
    connect(import, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Import a model"), {},
                                                          tr("Demucs models (*.th)"));
        if (file.isEmpty()) return;
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
        item->setText(3, !m.unsupported.empty() ? tr("unsupported")
                         : installed            ? tr("installed")
                                                : tr("not installed"));
        item->setToolTip(3, QString::fromStdString(m.unsupported));
        item->setText(4, QString::fromStdString(m.description));
        if (name == current) table_->setCurrentItem(item);
    }
    usage_->setText(tr("Model folder: %1 · %2 used")
                        .arg(QString::fromStdString(store_.dir()), megabytes(total)));
}

void ModelsDialog::startDownload(const QString& name) {
    const CatalogModel* m = catalog_.find(name.toStdString());
    if (!m || downloader_) return;
    downloader_ = new ModelDownloader(store_, QString::fromStdString(catalog_.baseUrl), this);
    progress_->show();
    progress_->setValue(0);
    progress_->setFormat(tr("Downloading %1").arg(name));
    cancel_->show();
    download_->setEnabled(false);
    connect(downloader_, &ModelDownloader::progress, this, [this, name](const DownloadProgress& p) {
        if (p.total > 0) progress_->setValue(int(1000.0 * double(p.received) / double(p.total)));
        QString text = tr("Downloading %1: %2").arg(name, megabytes(p.received));
        if (p.total > 0) text += tr(" of %1").arg(megabytes(p.total));
        if (p.bytesPerSecond > 0) text += tr(", %1/s").arg(megabytes(qint64(p.bytesPerSecond)));
        if (p.etaSeconds >= 0) text += tr(", %1 left").arg(formatSeconds(p.etaSeconds));
        progress_->setFormat(text);
    });
    connect(downloader_, &ModelDownloader::finished, this, [this](bool ok, const QString& error) {
        lastError_ = error;
        downloader_->deleteLater();
        downloader_ = nullptr;
        progress_->hide();
        cancel_->hide();
        download_->setEnabled(true);
        if (!ok && isVisible()) QMessageBox::warning(this, tr("Download failed"), error);
        refresh();
        Q_EMIT downloadFinished(ok);
    });
    downloader_->start(*m);
}

bool ensureModelInstalled(QWidget* parent, const QString& name) {
    Catalog catalog;
    try {
        catalog = appCatalog();
    } catch (const Error&) {
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
