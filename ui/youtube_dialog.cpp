#include "ui/youtube_dialog.h"

#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGuiApplication>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>

#include "core/paths.h"
#include "core/settings.h"
#include "core/web_address.h"
#include "ui/time_format.h"

namespace msplit::ui {

QString downloadsFolder() {
    return QString::fromStdString(paths::dataDir()) + "/downloads";
}

YouTubeDialog::YouTubeDialog(const QString& destination, QWidget* parent)
    : QDialog(parent),
      destination_(destination),
      url_(new QLineEdit(this)),
      playlist_(new QCheckBox(tr("The whole playlist"), this)),
      title_(new QLabel(this)),
      status_(new QLabel(this)),
      progress_(new QProgressBar(this)),
      download_(new QPushButton(tr("Download and separate"), this)) {
    setWindowTitle(tr("From YouTube"));
    resize(560, 200);
    auto* form = new QFormLayout(this);
    url_->setPlaceholderText(tr("https://www.youtube.com/watch?v=… (or any site yt-dlp supports)"));
    const QString clip = QGuiApplication::clipboard()->text().trimmed();
    if (clip.startsWith("http://") || clip.startsWith("https://")) url_->setText(clip);
    form->addRow(tr("Link"), url_);
    form->addRow(QString(), playlist_);
    title_->setWordWrap(true);
    form->addRow(tr("Title"), title_);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    form->addRow(progress_);
    status_->setObjectName("status");
    status_->setWordWrap(true);
    form->addRow(status_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->addButton(download_, QDialogButtonBox::AcceptRole);
    form->addRow(buttons);
    const auto validate = [this] {
        download_->setEnabled(isWebAddress(url_->text().trimmed()) && !runner_.running());
    };
    connect(url_, &QLineEdit::textChanged, this, validate);
    validate();
    connect(download_, &QPushButton::clicked, this, &YouTubeDialog::startDownload);
    connect(buttons, &QDialogButtonBox::rejected, this, &YouTubeDialog::reject);
    connect(&runner_, &YtDlpRunner::info, this, [this](const QString& title, double duration) {
        title_->setText(duration > 0 ? QString("%1 (%2)").arg(title, formatSeconds(duration))
                                     : title);
    });
    connect(&runner_, &YtDlpRunner::progress, this, [this](const YtDlpProgress& p) {
        if (p.fraction >= 0) progress_->setValue(int(p.fraction * 1000));
        status_->setText(tr("Downloading %1% · %2 · %3 left")
                             .arg(p.fraction >= 0 ? QString::number(p.fraction * 100, 'f', 1) : "?")
                             .arg(p.speed, formatSeconds(p.etaSeconds)));
    });
    connect(&runner_, &YtDlpRunner::finished, this,
            [this, validate](const QStringList& files, const QString& error) {
                validate();
                url_->setEnabled(true);
                if (!error.isEmpty()) {
                    status_->setText(error);
                    progress_->setValue(0);
                    return;
                }
                status_->setText(tr("Downloaded"));
                Q_EMIT downloaded(files, url_->text().trimmed());
                accept();
            });
}

void YouTubeDialog::setUrl(const QString& url) {
    url_->setText(url);
}
QString YouTubeDialog::statusText() const {
    return status_->text();
}

void YouTubeDialog::startDownload() {
    YtDlpOptions o;
    o.program = AppSettings().ytDlpPath();
    o.playlist = playlist_->isChecked();
    status_->setText(tr("Starting yt-dlp…"));
    title_->clear();
    download_->setEnabled(false);
    url_->setEnabled(false);
    runner_.start(url_->text().trimmed(), destination_, o);
}

void YouTubeDialog::reject() {
    runner_.cancel();
    QDialog::reject();
}

}  // namespace msplit::ui
