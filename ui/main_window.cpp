#include "ui/main_window.h"

#include <QLabel>
#include <QStatusBar>
#include <QToolBar>

namespace msplit::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle("Music Split");
    resize(1100, 700);
    auto* toolbar = addToolBar("Main");
    toolbar->setObjectName("mainToolbar");
    toolbar->setMovable(false);
    emptyState_ = new QLabel(tr("Drop songs here"), this);
    emptyState_->setAlignment(Qt::AlignCenter);
    emptyState_->setObjectName("emptyState");
    QFont f = emptyState_->font();
    f.setPointSizeF(f.pointSizeF() * 1.8);
    emptyState_->setFont(f);
    setCentralWidget(emptyState_);
    statusBar()->showMessage(tr("Ready"));
}

}  // namespace msplit::ui
