#pragma once
// "From YouTube": paste a link (prefilled from the clipboard), download its audio with yt-dlp
// with progress, title, speed and ETA, then hand the file to the separation queue.
#include <QDialog>

#include "core/ytdlp/ytdlp_runner.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace msplit::ui {

class YouTubeDialog : public QDialog {
    Q_OBJECT
public:
    // `destination`: where finished downloads are kept (the library's downloads folder).
    YouTubeDialog(const QString& destination, QWidget* parent = nullptr);
    void setUrl(const QString& url);
    void startDownload();
    QString statusText() const;
    YtDlpRunner& runner() { return runner_; }
    void reject() override;  // cancels a running download

Q_SIGNALS:
    void downloaded(const QStringList& files, const QString& url);

private:
    QString destination_;
    YtDlpRunner runner_;
    QLineEdit* url_;
    QCheckBox* playlist_;
    QLabel* title_;
    QLabel* status_;
    QProgressBar* progress_;
    QPushButton* download_;
};

QString downloadsFolder();  // $XDG_DATA_HOME/music-split/downloads

}  // namespace msplit::ui
