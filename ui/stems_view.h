#pragma once
// The centre of the window for one result: its stems, each with its file (the waveform lanes and
// the player replace this list when they land).
#include <QWidget>

#include "core/jobs/library.h"

class QLabel;
class QListWidget;

namespace msplit::ui {

class StemsView : public QWidget {
    Q_OBJECT
public:
    explicit StemsView(QWidget* parent = nullptr);
    void showRecord(const JobRecord& record);
    QStringList stemNames() const;

private:
    QLabel* header_;
    QListWidget* list_;
};

}  // namespace msplit::ui
