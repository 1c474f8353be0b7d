#pragma once
// The app's main window: toolbar, the queue and library on the left, the selected result in the
// centre, drag and drop anywhere. Work runs in the JobQueue's thread pool; this only shows it.
#include <QMainWindow>
#include <QMap>

#include "core/jobs/job_list_model.h"
#include "core/jobs/job_queue.h"
#include "core/jobs/library.h"

class QComboBox;
class QLabel;
class QListView;
class QMenu;
class QStackedWidget;

namespace msplit::ui {

class JobItemDelegate;
class TrackView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Queues songs: files, and folders searched recursively, checked off the UI thread (a drop
    // may hold thousands). Files FFmpeg cannot read are reported once in the status bar.
    // filesOpened follows.
    void openFiles(const QStringList& paths, const QString& sourceUrl = {});
    JobQueue& queue() { return queue_; }
    QListView* jobList() const { return list_; }
    JobListModel* jobModel() const { return jobs_; }
    // The library result shown for a list row, if it has one.
    const JobRecord* recordAt(int row) const { return jobs_->recordAt(row); }
    int currentRow() const;
    void setCurrentRow(int row);
    // Asks before quitting while jobs run; tests turn it off.
    bool confirmQuit = true;
    TrackView* trackView() const { return track_; }

Q_SIGNALS:
    void filesOpened(int queued, const QStringList& skipped);

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    void closeEvent(QCloseEvent* e) override;

private:
    void buildToolbar();
    void rememberRecent(const QString& file);
    void reloadModels();
    void selectModel(const QString& name);
    // The toolbar's device label: the GPU's name, or the CPU and its threads.
    static QString deviceText(const QString& setting, int threads);
    void applySettings();
    void onItemAdded(int id);
    void onItemChanged(int id);
    void showSelection();
    void removeRow(int row);
    void exportSelected();
    void openSettings();

    JobQueue queue_;
    Library library_;
    QComboBox* model_ = nullptr;
    QMenu* recent_ = nullptr;
    QLabel* device_ = nullptr;
    JobListModel* jobs_ = nullptr;
    QListView* list_ = nullptr;
    QStackedWidget* centre_ = nullptr;
    QLabel* emptyState_ = nullptr;
    QLabel* jobState_ = nullptr;
    TrackView* track_ = nullptr;
    QString shownRecord_;  // the result the track view holds
};

}  // namespace msplit::ui
