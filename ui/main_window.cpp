#include "ui/main_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QThread>
#include <QToolBar>
#include <QtConcurrent>

#include "core/engine/engine.h"
#include "core/error.h"
#include "core/jobs/job_config.h"
#include "core/jobs/song_scan.h"
#include "core/models/catalog.h"
#include "core/models/local_repo.h"
#include "core/remote/remote_models.h"
#include "core/settings.h"
#include "ui/export_dialog.h"
#include "ui/job_item_delegate.h"
#include "ui/models_dialog.h"
#include "ui/settings_dialog.h"
#include "ui/track_view.h"
#include "ui/youtube_dialog.h"

namespace msplit::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), library_(defaultLibraryRoot()) {
    setWindowTitle("Music Split");
    resize(1100, 700);
    setAcceptDrops(true);
    buildToolbar();

    jobs_ = new JobListModel(&queue_, this);
    list_ = new QListView(this);
    list_->setObjectName("jobList");
    list_->setMinimumWidth(300);
    list_->setModel(jobs_);
    list_->setMouseTracking(true);
    auto* delegate = new JobItemDelegate(list_);
    list_->setItemDelegate(delegate);
    connect(delegate, &JobItemDelegate::cancelRequested, &queue_, &JobQueue::cancel);
    connect(delegate, &JobItemDelegate::removeRequested, this, &MainWindow::removeRow);
    centre_ = new QStackedWidget(this);
    emptyState_ = new QLabel(tr("Drop songs here\n\nor press Ctrl+O to open files"), this);
    emptyState_->setAlignment(Qt::AlignCenter);
    emptyState_->setObjectName("emptyState");
    QFont f = emptyState_->font();
    f.setPointSizeF(f.pointSizeF() * 1.8);
    emptyState_->setFont(f);
    jobState_ = new QLabel(this);
    jobState_->setAlignment(Qt::AlignCenter);
    jobState_->setWordWrap(true);
    track_ = new TrackView(this);
    centre_->addWidget(emptyState_);
    centre_->addWidget(jobState_);
    centre_->addWidget(track_);
    auto* split = new QSplitter(this);
    split->addWidget(list_);
    split->addWidget(centre_);
    split->setStretchFactor(1, 1);
    setCentralWidget(split);

    // The model hears the queue first (connected in its constructor), so rows exist here.
    connect(&queue_, &JobQueue::itemAdded, this, &MainWindow::onItemAdded);
    connect(&queue_, &JobQueue::itemChanged, this, &MainWindow::onItemChanged);
    connect(list_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::showSelection);
    auto* del = new QAction(this);
    del->setShortcut(QKeySequence::Delete);
    connect(del, &QAction::triggered, this, [this] { removeRow(currentRow()); });
    addAction(del);

    applySettings();
    library_.removeStrays();  // left by a crash or a kill
    jobs_->setRecords(library_.load());
    showSelection();
    // A problem found while starting stays on show.
    if (statusBar()->currentMessage().isEmpty()) statusBar()->showMessage(tr("Ready"));
}

void MainWindow::buildToolbar() {
    auto* bar = addToolBar(tr("Main"));
    bar->setObjectName("mainToolbar");
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    auto* open = bar->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open"));
    open->setShortcut(QKeySequence::Open);
    // Recent files under the Open button's arrow.
    recent_ = new QMenu(this);
    open->setMenu(recent_);
    connect(recent_, &QMenu::aboutToShow, this, [this] {
        recent_->clear();
        for (const QString& f : AppSettings().value("app/recent").toStringList())
            recent_->addAction(QFileInfo(f).fileName(), this, [this, f] { openFiles({f}); })
                ->setToolTip(f);
        if (recent_->isEmpty()) recent_->addAction(tr("No recent songs"))->setEnabled(false);
    });
    connect(open, &QAction::triggered, this, [this] {
        const QStringList files = QFileDialog::getOpenFileNames(this, tr("Open songs"));
        if (!files.isEmpty()) openFiles(files);
    });
    auto* web = bar->addAction(style()->standardIcon(QStyle::SP_ArrowDown), tr("From YouTube"));
    web->setToolTip(tr("Download a song from YouTube or another site (yt-dlp) and separate it"));
    connect(web, &QAction::triggered, this, [this] {
        YouTubeDialog dialog(downloadsFolder(), this);
        connect(&dialog, &YouTubeDialog::downloaded, this,
                [this](const QStringList& files, const QString& url) { openFiles(files, url); });
        dialog.exec();
    });
    bar->addSeparator();
    model_ = new QComboBox(this);
    model_->setObjectName("modelPicker");
    model_->setMinimumWidth(220);
    model_->setToolTip(tr("Model used for the next songs"));
    bar->addWidget(model_);
    connect(model_, &QComboBox::activated, this, [this] {
        AppSettings().setModel(model_->currentData().toString());
        applySettings();
    });
    device_ = new QLabel(this);
    device_->setObjectName("deviceLabel");
    device_->setContentsMargins(8, 0, 8, 0);
    bar->addWidget(device_);
    auto* again = bar->addAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("Separate"));
    again->setToolTip(tr("Separate the selected song again with the chosen model"));
    connect(again, &QAction::triggered, this, [this] {
        if (const JobRecord* r = recordAt(currentRow())) openFiles({r->source});
    });
    auto* exp = bar->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Export"));
    exp->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(exp, &QAction::triggered, this, &MainWindow::exportSelected);
    auto* models = bar->addAction(style()->standardIcon(QStyle::SP_DriveHDIcon), tr("Models"));
    connect(models, &QAction::triggered, this, [this] {
        ModelsDialog(this).exec();
        reloadModels();
    });
    auto* settings =
        bar->addAction(style()->standardIcon(QStyle::SP_FileDialogDetailedView), tr("Settings"));
    settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    connect(settings, &QAction::triggered, this, &MainWindow::openSettings);
}

void MainWindow::reloadModels() {
    const AppSettings s;
    model_->clear();
    if (const RemoteConfig remote = remoteConfigFrom(s); remote.enabled()) {
        // The server's models; until it answers, the chosen one stands alone.
        model_->addItem(s.model(), s.model());
        auto* fetch = new RemoteModels(remote, this);
        connect(fetch, &RemoteModels::ready, this, [this, fetch](const QList<RemoteModel>& ms) {
            fetch->deleteLater();
            const QString chosen = AppSettings().model();
            model_->clear();
            for (const RemoteModel& m : ms)
                model_->addItem(QString("%1 (%2 stems)").arg(m.name).arg(m.stems.size()), m.name);
            selectModel(chosen);
        });
        connect(fetch, &RemoteModels::failed, this, [this, fetch](const QString& error) {
            fetch->deleteLater();
            statusBar()->showMessage(error, 10000);
        });
        fetch->fetch();
        return;
    }
    try {
        for (const auto& m : appCatalog().models)
            if (m.unsupported.empty())
                model_->addItem(QString("%1 (%2 stems)")
                                    .arg(QString::fromStdString(m.name))
                                    .arg(m.stems.size()),
                                QString::fromStdString(m.name));
    } catch (const Error& e) {
        qWarning("models: the catalog cannot be read: %s", e.what());
        statusBar()->showMessage(tr("The model catalog cannot be read: %1").arg(e.what()), 15000);
    }
    try {  // models of the cache that the catalog does not know (imported, custom bags)
        for (const auto& name : LocalRepo(s.modelCache().toStdString()).names()) {
            const QString n = QString::fromStdString(name);
            if (model_->findData(n) < 0) model_->addItem(n, n);
        }
    } catch (const Error& e) {
        // No folder yet is how a first start looks; anything else the user must hear of.
        if (e.kind() != ErrorKind::NotFound) {
            qWarning("models: %s", e.what());
            statusBar()->showMessage(
                tr("The model folder cannot be read: %1").arg(QString::fromUtf8(e.what())), 15000);
        }
    }
    selectModel(s.model());
}

void MainWindow::selectModel(const QString& name) {
    int i = model_->findData(name);
    if (i < 0) {
        model_->addItem(name, name);
        i = model_->count() - 1;
    }
    model_->setCurrentIndex(i);
}

QString MainWindow::deviceText(const QString& setting, int threads) {
    if (engine::meansGpu(setting.toStdString())) {
        try {
            return QString::fromStdString(engine::describeDevice(setting.toStdString()));
        } catch (const std::exception& e) {
            qWarning("device: %s", e.what());
            return tr("GPU unavailable");
        }
    }
    return tr("CPU (%1 threads)").arg(threads > 0 ? threads : QThread::idealThreadCount());
}

void MainWindow::applySettings() {
    const AppSettings s;
    reloadModels();
    const JobConfig c = jobConfigFrom(s, library_.root());
    queue_.setConfig(c);
    track_->player().setOutputDevice(s.value("player/output").toByteArray());
    if (c.remote.enabled()) {
        const QString where =
            c.remote.server.host() + ":" + QString::number(c.remote.server.port(80));
        device_->setText(tr("Server %1").arg(where));
        device_->setToolTip(tr("Songs are separated by the Music Split server at %1 "
                               "(Settings, Remote server; empty it to work on this computer)")
                                .arg(where));
        return;
    }
    device_->setText(deviceText(s.device(), s.threads()));
    device_->setToolTip(tr("Where songs are separated (Settings, Device)"));
}

void MainWindow::openFiles(const QStringList& paths, const QString& sourceUrl) {
    if (paths.isEmpty()) return;
    // A server has its own models; here they are downloaded first if missing.
    if (!queue_.config().remote.enabled() &&
        !ensureModelInstalled(this, model_->currentData().toString()))
        return;
    // Folders are walked and files probed off the UI thread: a drop may hold thousands.
    auto* watcher = new QFutureWatcher<SongScan>(this);
    connect(watcher, &QFutureWatcher<SongScan>::finished, this, [this, watcher, sourceUrl] {
        const SongScan scan = watcher->result();
        watcher->deleteLater();
        for (const QString& f : scan.songs) {
            queue_.enqueue(f, sourceUrl);
            rememberRecent(f);
        }
        const int queued = int(scan.songs.size());
        if (!scan.skipped.isEmpty())
            statusBar()->showMessage(
                tr("Skipped %n file(s) that are not audio: %1", nullptr, int(scan.skipped.size()))
                    .arg(scan.skipped.mid(0, 5).join(", ")),
                15000);
        else if (queued)
            statusBar()->showMessage(tr("Queued %n song(s)", nullptr, queued), 5000);
        Q_EMIT filesOpened(queued, scan.skipped);
    });
    statusBar()->showMessage(tr("Looking at %n item(s)...", nullptr, int(paths.size())));
    watcher->setFuture(QtConcurrent::run([paths] { return scanForSongs(paths); }));
}

void MainWindow::rememberRecent(const QString& file) {
    AppSettings s;
    QStringList recent = s.value("app/recent").toStringList();
    recent.removeAll(file);
    recent.prepend(QFileInfo(file).absoluteFilePath());
    s.setValue("app/recent", recent.mid(0, 10));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
    if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
    QStringList paths;
    for (const QUrl& u : e->mimeData()->urls())
        if (u.isLocalFile()) paths << u.toLocalFile();
    if (!paths.isEmpty()) {
        openFiles(paths);
        e->acceptProposedAction();
    }
}

void MainWindow::closeEvent(QCloseEvent* e) {
    if (queue_.busy()) {
        if (confirmQuit &&
            QMessageBox::question(this, tr("Quit Music Split?"),
                                  tr("Separations are still running. Quit and cancel them?")) !=
                QMessageBox::Yes) {
            e->ignore();
            return;
        }
        queue_.cancelAll();
        queue_.waitForDone();  // each job stops within a segment and removes its partial result
    }
    e->accept();
}

int MainWindow::currentRow() const {
    return list_->currentIndex().row();
}

void MainWindow::setCurrentRow(int row) {
    list_->setCurrentIndex(jobs_->index(row));
}

void MainWindow::onItemAdded(int) {
    if (currentRow() < 0) setCurrentRow(0);
    showSelection();
}

void MainWindow::onItemChanged(int id) {
    const JobQueue::Item* it = queue_.item(id);
    if (!it) return;
    if (it->state == JobQueue::State::Failed)
        statusBar()->showMessage(tr("%1 failed: %2").arg(it->title, it->error), 15000);
    if (jobs_->queueIdAt(currentRow()) == id) showSelection();
}

void MainWindow::showSelection() {
    if (jobs_->rowCount() == 0) {
        centre_->setCurrentWidget(emptyState_);
        return;
    }
    const int row = currentRow();
    const int id = jobs_->queueIdAt(row);
    const QString live = id ? QString("live:%1").arg(id) : QString();
    if (const JobRecord* r = recordAt(row)) {
        if (shownRecord_ == live && !live.isEmpty()) {
            // It was playing while it separated: the same lanes go on, now with its files.
            shownRecord_ = r->folder;
            track_->adoptRecord(*r);
        } else if (shownRecord_ != r->folder) {  // progress updates must not reload the player
            shownRecord_ = r->folder;
            track_->showRecord(*r);
        }
        centre_->setCurrentWidget(track_);
        return;
    }
    const JobQueue::Item* it = queue_.item(id);
    if (!it) {
        centre_->setCurrentWidget(emptyState_);
        return;
    }
    if (it->live && it->state == JobQueue::State::Running) {  // listen while it separates
        if (shownRecord_ != live) {
            shownRecord_ = live;
            track_->showLive(it->live);
        }
        centre_->setCurrentWidget(track_);
        return;
    }
    if (shownRecord_ == live && !live.isEmpty()) {  // failed or cancelled while shown
        shownRecord_.clear();
        track_->player().stop();
    }
    jobState_->setText(
        it->state == JobQueue::State::Failed
            ? tr("%1\n\nFailed: %2").arg(it->title, it->error)
            : tr("%1\n\n%2 · %3%").arg(it->title, it->stage).arg(int(it->progress * 100)));
    centre_->setCurrentWidget(jobState_);
}

void MainWindow::removeRow(int row) {
    if (row < 0 || row >= jobs_->rowCount()) return;
    const int id = jobs_->queueIdAt(row);
    if (id && queue_.item(id) && jobs_->index(row).data(JobListModel::ActiveRole).toBool()) {
        queue_.cancel(id);  // running: cancel first; the row stays until it ends
        return;
    }
    // Ask before anything is forgotten: "No" leaves the row, the queue item and the files.
    if (const JobRecord* r = recordAt(row)) {
        if (QMessageBox::question(this, tr("Delete"),
                                  tr("Delete the stems of %1 from the library?").arg(r->title)) !=
            QMessageBox::Yes)
            return;
        if (!library_.remove(*r)) {
            statusBar()->showMessage(tr("Could not delete %1").arg(r->folder), 15000);
            return;
        }
    }
    if (id) queue_.remove(id);
    jobs_->removeAt(row);
    showSelection();
}

void MainWindow::exportSelected() {
    const JobRecord* r = recordAt(currentRow());
    if (!r) {
        statusBar()->showMessage(tr("Select a finished song to export"), 5000);
        return;
    }
    // The mix as heard can be exported when the track view holds this result.
    ExportDialog dialog(*r, this, shownRecord_ == r->folder ? &track_->player() : nullptr);
    if (dialog.exec() == QDialog::Accepted)
        statusBar()->showMessage(tr("Exported %1").arg(r->title), 5000);
}

void MainWindow::openSettings() {
    SettingsDialog dialog(this);
    if (dialog.exec() == QDialog::Accepted) applySettings();
}

}  // namespace msplit::ui
