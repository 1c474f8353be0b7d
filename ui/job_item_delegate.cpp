#include "ui/job_item_delegate.h"

#include <QApplication>
#include <QMouseEvent>
#include <QPainter>

#include "core/jobs/job_list_model.h"
#include "ui/time_format.h"

namespace msplit::ui {
namespace {

constexpr int kMargin = 6;
constexpr int kButton = 24;
constexpr int kBarHeight = 6;

using Roles = JobListModel;
using State = JobQueue::State;

}  // namespace

QString JobItemDelegate::detailText(const QModelIndex& index) {
    const QString model = index.data(Roles::ModelRole).toString();
    const auto state = static_cast<State>(index.data(Roles::StateRole).toInt());
    if (!index.data(Roles::QueueIdRole).toInt())  // a result from the library
        return model + " · " + formatSeconds(index.data(Roles::DurationRole).toDouble()) + " · " +
               tr("%n stem(s)", nullptr, index.data(Roles::StemCountRole).toInt());
    switch (state) {
        case State::Failed:
            return model + " · " + tr("Failed: %1").arg(index.data(Roles::ErrorRole).toString());
        case State::Done:
            return model + " · " + formatSeconds(index.data(Roles::DurationRole).toDouble());
        case State::Running: {
            const double eta = index.data(Roles::EtaRole).toDouble();
            QString text = model + " · " + index.data(Roles::StageRole).toString();
            if (eta >= 0) text += tr(" · %1 left").arg(formatSeconds(eta));
            return text;
        }
        case State::Queued:
        case State::Cancelled:
            break;
    }
    return model + " · " + index.data(Roles::StageRole).toString();
}

QRect JobItemDelegate::buttonRect(const QRect& row) {
    return QRect(row.right() - kMargin - kButton, row.center().y() - kButton / 2, kButton, kButton);
}

QSize JobItemDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
    const QFontMetrics fm(option.font);
    return QSize(280, 2 * kMargin + 2 * fm.height() + 4 + kBarHeight);
}

void JobItemDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                            const QModelIndex& index) const {
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
    opt.text.clear();  // the background and selection only; the text is laid out below
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);

    const bool active = index.data(Roles::ActiveRole).toBool();
    const QRect button = buttonRect(option.rect);
    const QRect text(option.rect.left() + kMargin, option.rect.top() + kMargin,
                     button.left() - kMargin - option.rect.left() - kMargin,
                     option.rect.height() - 2 * kMargin);
    painter->save();
    const bool selected = option.state & QStyle::State_Selected;
    painter->setPen(option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    QFont bold = option.font;
    bold.setBold(true);
    const QFontMetrics fmBold(bold), fm(option.font);
    painter->setFont(bold);
    painter->drawText(
        QRect(text.left(), text.top(), text.width(), fmBold.height()),
        Qt::AlignLeft | Qt::AlignVCenter,
        fmBold.elidedText(index.data(Roles::TitleRole).toString(), Qt::ElideRight, text.width()));
    painter->setFont(option.font);
    painter->drawText(
        QRect(text.left(), text.top() + fmBold.height() + 2, text.width(), fm.height()),
        Qt::AlignLeft | Qt::AlignVCenter,
        fm.elidedText(detailText(index), Qt::ElideRight, text.width()));
    painter->restore();

    if (active) {
        QStyleOptionProgressBar bar;
        bar.rect = QRect(text.left(), text.bottom() - kBarHeight + 1, text.width(), kBarHeight);
        bar.minimum = 0;
        bar.maximum = 1000;
        bar.progress = static_cast<int>(index.data(Roles::ProgressRole).toDouble() * 1000);
        bar.state = QStyle::State_Enabled | QStyle::State_Horizontal;
        bar.palette = option.palette;
        style->drawControl(QStyle::CE_ProgressBar, &bar, painter, opt.widget);
    }
    const QIcon icon = style->standardIcon(active ? QStyle::SP_BrowserStop : QStyle::SP_TrashIcon,
                                           &opt, opt.widget);
    icon.paint(painter, button.adjusted(4, 4, -4, -4));
}

bool JobItemDelegate::editorEvent(QEvent* event, QAbstractItemModel* model,
                                  const QStyleOptionViewItem& option, const QModelIndex& index) {
    if (event->type() == QEvent::MouseButtonRelease) {
        const auto* mouse = static_cast<QMouseEvent*>(event);
        if (mouse->button() == Qt::LeftButton &&
            buttonRect(option.rect).contains(mouse->position().toPoint())) {
            if (index.data(Roles::ActiveRole).toBool())
                Q_EMIT cancelRequested(index.data(Roles::QueueIdRole).toInt());
            else
                Q_EMIT removeRequested(index.row());
            return true;
        }
    }
    return QStyledItemDelegate::editorEvent(event, model, option, index);
}

}  // namespace msplit::ui
