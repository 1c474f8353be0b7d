#pragma once
// Paints a row of the job list (JobListModel): title, model and state, a progress bar while the
// song is separated, and a button at the right that cancels it, or removes a finished one.
#include <QStyledItemDelegate>

namespace msplit::ui {

class JobItemDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    // The second line of a row: "htdemucs · Separating · 0:42 left", "htdemucs · 3:20 · 4 stems".
    static QString detailText(const QModelIndex& index);
    // Where a row's button is drawn and clicked.
    static QRect buttonRect(const QRect& row);

Q_SIGNALS:
    void cancelRequested(int queueId);
    void removeRequested(int row);

protected:
    bool editorEvent(QEvent* event, QAbstractItemModel* model, const QStyleOptionViewItem& option,
                     const QModelIndex& index) override;
};

}  // namespace msplit::ui
