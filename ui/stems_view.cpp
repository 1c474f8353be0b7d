#include "ui/stems_view.h"

#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QVBoxLayout>

#include "ui/job_item_widget.h"

namespace msplit::ui {

StemsView::StemsView(QWidget* parent)
    : QWidget(parent), header_(new QLabel(this)), list_(new QListWidget(this)) {
    auto* layout = new QVBoxLayout(this);
    QFont f = header_->font();
    f.setPointSizeF(f.pointSizeF() * 1.4);
    header_->setFont(f);
    header_->setWordWrap(true);
    layout->addWidget(header_);
    layout->addWidget(list_, 1);
}

void StemsView::showRecord(const JobRecord& r) {
    header_->setText(QString("%1\n%2 · %3 · separated in %4")
                         .arg(r.title, r.model, formatSeconds(r.durationSeconds),
                              formatSeconds(r.separationSeconds)));
    list_->clear();
    for (const QString& stem : r.stems) {
        auto* item =
            new QListWidgetItem(stem + "    " + QFileInfo(r.stemFile(stem)).fileName(), list_);
        item->setData(Qt::UserRole, stem);
        item->setToolTip(r.stemFile(stem));
    }
}

QStringList StemsView::stemNames() const {
    QStringList out;
    for (int i = 0; i < list_->count(); ++i)
        out << list_->item(i)->data(Qt::UserRole).toString();
    return out;
}

}  // namespace msplit::ui
