#pragma once
// The app's settings: model and device, segment/overlap/shifts, threads and CPU jobs, result
// format, model cache, yt-dlp, remote server, log level. Saved on OK.
#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace msplit::ui {

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(QWidget* parent = nullptr);
    void save() const;

private:
    QLineEdit* model_;
    QComboBox* device_;
    QSpinBox* shifts_;
    QDoubleSpinBox* overlap_;
    QDoubleSpinBox* segment_;
    QSpinBox* threads_;
    QSpinBox* cpuJobs_;
    QComboBox* format_;
    QLineEdit* cache_;
    QLineEdit* ytDlp_;
    QLineEdit* remoteUrl_;
    QLineEdit* remoteToken_;
    QComboBox* logLevel_;
    QComboBox* output_;
};

}  // namespace msplit::ui
