#pragma once
// One entry of the queue and library list: title, model, state, progress with ETA, and a button
// that cancels a running job or removes a finished one.
#include <QWidget>

#include "core/jobs/job_queue.h"

class QLabel;
class QProgressBar;
class QToolButton;

namespace msplit::ui {

class JobItemWidget : public QWidget {
    Q_OBJECT
public:
    explicit JobItemWidget(QWidget* parent = nullptr);
    void showItem(const JobQueue::Item& item);
    void showRecord(const JobRecord& record);
    QString stateText() const;

Q_SIGNALS:
    void cancelRequested();
    void removeRequested();

private:
    QLabel* title_;
    QLabel* detail_;
    QProgressBar* progress_;
    QToolButton* button_;
    bool running_ = false;
};

QString formatSeconds(double seconds);

}  // namespace msplit::ui
