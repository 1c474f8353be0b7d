#include "ui/job_item_widget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace msplit::ui {

QString formatSeconds(double seconds) {
    if (seconds < 0) return "–";
    const int s = static_cast<int>(seconds + 0.5);
    return s >= 3600 ? QString("%1:%2:%3")
                           .arg(s / 3600)
                           .arg(s / 60 % 60, 2, 10, QChar('0'))
                           .arg(s % 60, 2, 10, QChar('0'))
                     : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

JobItemWidget::JobItemWidget(QWidget* parent)
    : QWidget(parent),
      title_(new QLabel(this)),
      detail_(new QLabel(this)),
      progress_(new QProgressBar(this)),
      button_(new QToolButton(this)) {
    auto* text = new QVBoxLayout;
    text->setSpacing(2);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    detail_->setObjectName("detail");
    detail_->setWordWrap(true);
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    progress_->setMaximumHeight(6);
    text->addWidget(title_);
    text->addWidget(detail_);
    text->addWidget(progress_);
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(6, 4, 6, 4);
    row->addLayout(text, 1);
    row->addWidget(button_);
    button_->setAutoRaise(true);
    connect(button_, &QToolButton::clicked, this, [this] {
        if (running_)
            Q_EMIT cancelRequested();
        else
            Q_EMIT removeRequested();
    });
}

void JobItemWidget::showItem(const JobQueue::Item& it) {
    using S = JobQueue::State;
    title_->setText(it.title);
    running_ = it.state == S::Queued || it.state == S::Running;
    QString detail = it.model + " · " + it.stage;
    if (it.state == S::Running && it.etaSeconds >= 0)
        detail += tr(" · %1 left").arg(formatSeconds(it.etaSeconds));
    if (it.state == S::Failed) detail = it.model + " · " + tr("Failed: %1").arg(it.error);
    if (it.state == S::Done) detail = it.model + " · " + formatSeconds(it.result.durationSeconds);
    detail_->setText(detail);
    detail_->setToolTip(it.state == S::Failed ? it.error : it.source);
    progress_->setVisible(running_);
    progress_->setValue(static_cast<int>(it.progress * 1000));
    button_->setIcon(
        style()->standardIcon(running_ ? QStyle::SP_BrowserStop : QStyle::SP_TrashIcon));
    button_->setToolTip(running_ ? tr("Cancel") : tr("Remove"));
}

void JobItemWidget::showRecord(const JobRecord& r) {
    running_ = false;
    title_->setText(r.title);
    detail_->setText(r.model + " · " + formatSeconds(r.durationSeconds) + " · " +
                     QString::number(r.stems.size()) + tr(" stems"));
    detail_->setToolTip(r.source);
    progress_->hide();
    button_->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
    button_->setToolTip(tr("Delete from the library"));
}

QString JobItemWidget::stateText() const {
    return detail_->text();
}

}  // namespace msplit::ui
