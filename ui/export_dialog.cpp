#include "ui/export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QtConcurrent/QtConcurrentRun>

#include "core/defaults.h"
#include "core/error.h"
#include "core/settings.h"

namespace msplit::ui {

ExportDialog::ExportDialog(const JobRecord& record, QWidget* parent, const Player* player)
    : QDialog(parent),
      record_(record),
      player_(player),
      currentMix_(new QCheckBox(
          tr("The mix as heard in the player (gains, mute, solo, pan, tempo, pitch)"), this)),
      destination_(new QLineEdit(this)),
      format_(new QComboBox(this)),
      bitrate_(new QSpinBox(this)),
      twoStems_(new QComboBox(this)),
      template_(new QLineEdit(this)),
      progress_(new QProgressBar(this)),
      buttons_(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this)) {
    setWindowTitle(tr("Export stems of %1").arg(record.title));
    const AppSettings s;
    auto* form = new QFormLayout(this);
    auto* browse = new QPushButton(tr("Choose…"), this);
    auto* destRow = new QHBoxLayout;
    destRow->addWidget(destination_, 1);
    destRow->addWidget(browse);
    form->addRow(tr("Folder"), destRow);
    destination_->setText(s.value("export/destination",
                                  QStandardPaths::writableLocation(QStandardPaths::MusicLocation))
                              .toString());
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Export to"), destination_->text());
        if (!dir.isEmpty()) destination_->setText(dir);
    });
    const QList<QPair<QString, QString>> formats = {
        {"wav16", tr("WAV 16-bit")},        {"wav24", tr("WAV 24-bit")},
        {"wav32f", tr("WAV 32-bit float")}, {"flac16", tr("FLAC 16-bit")},
        {"flac24", tr("FLAC 24-bit")},      {"mp3", tr("MP3")}};
    for (const auto& [key, label] : formats)
        format_->addItem(label, key);
    bitrate_->setRange(96, 320);
    bitrate_->setSuffix(" kb/s");
    bitrate_->setValue(s.value("export/mp3Bitrate", defaults::kMp3BitrateKbps).toInt());
    auto* formatRow = new QHBoxLayout;
    formatRow->addWidget(format_, 1);
    formatRow->addWidget(bitrate_);
    form->addRow(tr("Format"), formatRow);
    setFormat(s.value("export/format", "wav24").toString());
    connect(format_, &QComboBox::currentIndexChanged, this,
            [this] { bitrate_->setEnabled(format_->currentData().toString() == "mp3"); });
    bitrate_->setEnabled(format_->currentData().toString() == "mp3");

    auto* stemsRow = new QHBoxLayout;
    for (const QString& stem : record.stems) {
        auto* box = new QCheckBox(stem, this);
        box->setChecked(true);
        stems_ << box;
        stemsRow->addWidget(box);
    }
    form->addRow(tr("Stems"), stemsRow);
    twoStems_->addItem(tr("Off"), QString());
    for (const QString& stem : record.stems)
        twoStems_->addItem(tr("%1 + no_%1").arg(stem), stem);
    form->addRow(tr("Two stems"), twoStems_);
    connect(twoStems_, &QComboBox::currentIndexChanged, this, [this] {
        for (auto* b : stems_)
            b->setEnabled(twoStems_->currentData().toString().isEmpty());
    });
    currentMix_->setEnabled(player_ != nullptr);
    form->addRow(tr("Mix"), currentMix_);
    template_->setText(s.value("export/template", defaults::kFilenameTemplate).toString());
    template_->setToolTip(tr("{track}, {trackext}, {stem} and {ext} are replaced"));
    form->addRow(tr("File names"), template_);
    progress_->setRange(0, 1000);
    progress_->hide();
    form->addRow(progress_);
    buttons_->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    form->addRow(buttons_);
    connect(buttons_, &QDialogButtonBox::accepted, this, &ExportDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void ExportDialog::setDestination(const QString& dir) {
    destination_->setText(dir);
}
void ExportDialog::setFormat(const QString& key) {
    const int i = format_->findData(key);
    if (i >= 0) format_->setCurrentIndex(i);
}
void ExportDialog::setStemChecked(const QString& stem, bool on) {
    for (auto* b : stems_)
        if (b->text() == stem) b->setChecked(on);
}
void ExportDialog::setCurrentMix(bool on) {
    currentMix_->setChecked(on && player_);
}

void ExportDialog::setTwoStems(const QString& stem) {
    const int i = twoStems_->findData(stem);
    twoStems_->setCurrentIndex(i >= 0 ? i : 0);
}

ExportOptions ExportDialog::options() const {
    ExportOptions o;
    o.destination = destination_->text();
    const QString f = format_->currentData().toString();
    o.encode.format = f.startsWith("flac") ? FileFormat::Flac
                      : f == "mp3"         ? FileFormat::Mp3
                                           : FileFormat::Wav;
    o.encode.depth = f.endsWith("16")   ? SampleFormat::Int16
                     : f.endsWith("24") ? SampleFormat::Int24
                                        : SampleFormat::Float32;
    o.encode.mp3BitrateKbps = bitrate_->value();
    for (auto* b : stems_)
        if (b->isChecked()) o.stems << b->text();
    o.twoStems = twoStems_->currentData().toString();
    o.nameTemplate = template_->text();
    if (currentMix_->isChecked() && player_ && player_->mixer())
        for (int i = 0; i < player_->mixer()->lanes(); ++i) {
            const QString name = player_->laneNames().value(i);
            if (i == player_->clickLane()) continue;  // the metronome is for practice only
            const auto gain = player_->mixer()->heardGain(i);
            // The first lane named "mix" is the original song.
            o.currentMix.push_back(
                {i == 0 && name == tr("mix") ? QString() : name, gain[0], gain[1]});
        }
    if (!o.currentMix.empty()) {
        o.mixTempo = player_->tempo();
        o.mixSemitones = player_->semitones();
    }
    return o;
}

void ExportDialog::remember() const {
    AppSettings s;
    s.setValue("export/destination", destination_->text());
    s.setValue("export/format", format_->currentData());
    s.setValue("export/mp3Bitrate", bitrate_->value());
    s.setValue("export/template", template_->text());
}

QStringList ExportDialog::runExport(QString* error) {
    const ExportOptions o = options();
    QStringList targets;
    try {
        targets = exportTargets(record_, o);
    } catch (const Error& e) {
        *error = QString::fromUtf8(e.what());
        return {};
    }
    QStringList existing;
    for (const QString& t : targets)
        if (QFileInfo::exists(t)) existing << QFileInfo(t).fileName();
    if (!existing.isEmpty() && !assumeOverwrite &&
        QMessageBox::question(
            this, tr("Replace files?"),
            tr("%n file(s) already exist and will be replaced:\n%1", nullptr, int(existing.size()))
                .arg(existing.join("\n"))) != QMessageBox::Yes) {
        *error = tr("Not exported: the files exist");
        return {};
    }
    remember();
    progress_->show();
    buttons_->setEnabled(false);
    QFutureWatcher<QString> watcher;
    QEventLoop loop;  // the dialog stays live; the work runs on the pool
    connect(&watcher, &QFutureWatcher<QString>::finished, &loop, &QEventLoop::quit);
    QPointer<QProgressBar> bar(progress_);
    watcher.setFuture(QtConcurrent::run([record = record_, o, bar]() -> QString {
        try {
            exportStems(record, o, [bar](double f) {
                QMetaObject::invokeMethod(
                    bar,
                    [bar, f] {
                        if (bar) bar->setValue(int(f * 1000));
                    },
                    Qt::QueuedConnection);
                return true;
            });
            return {};
        } catch (const Error& e) {
            return QString::fromUtf8(e.what());
        }
    }));
    loop.exec();
    buttons_->setEnabled(true);
    *error = watcher.result();
    return error->isEmpty() ? targets : QStringList();
}

void ExportDialog::accept() {
    QString error;
    const QStringList written = runExport(&error);
    if (!error.isEmpty()) {
        QMessageBox::warning(this, tr("Export"), error);
        return;
    }
    QDialog::accept();
}

}  // namespace msplit::ui
