#pragma once
// The app's main window: toolbar, queue and library on the left, the stems in the centre.
#include <QMainWindow>

class QLabel;

namespace msplit::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

private:
    QLabel* emptyState_ = nullptr;
};

}  // namespace msplit::ui
