#include "ui/settings_dialog.h"

#include <QAudioDevice>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QMediaDevices>
#include <QMessageBox>
#include <QSpinBox>

#include "core/engine/engine.h"
#include "core/settings.h"
#include "core/web_address.h"
#include "core/ytdlp/ytdlp_runner.h"

namespace msplit::ui {

SettingsDialog::SettingsDialog(QWidget* parent)
    : QDialog(parent),
      model_(new QLineEdit(this)),
      device_(new QComboBox(this)),
      shifts_(new QSpinBox(this)),
      overlap_(new QDoubleSpinBox(this)),
      segment_(new QDoubleSpinBox(this)),
      threads_(new QSpinBox(this)),
      cpuJobs_(new QSpinBox(this)),
      format_(new QComboBox(this)),
      cache_(new QLineEdit(this)),
      ytDlp_(new QLineEdit(this)),
      remoteUrl_(new QLineEdit(this)),
      remoteToken_(new QLineEdit(this)),
      logLevel_(new QComboBox(this)),
      output_(new QComboBox(this)) {
    setWindowTitle(tr("Settings"));
    const AppSettings s;
    auto* form = new QFormLayout(this);
    model_->setText(s.model());
    form->addRow(tr("Default model"), model_);
    device_->addItem(tr("Automatic (GPU when there is one)"), "auto");
    device_->addItem(tr("CPU"), "cpu");
    if (engine::cudaAvailable()) device_->addItem(tr("GPU (CUDA)"), "cuda");
    device_->setCurrentIndex(std::max(0, device_->findData(s.device())));
    form->addRow(tr("Device"), device_);
    shifts_->setRange(0, 20);
    shifts_->setValue(s.shifts());
    shifts_->setToolTip(tr("Random shifts averaged: better quality, proportionally slower"));
    form->addRow(tr("Shifts"), shifts_);
    overlap_->setRange(0, 0.9);
    overlap_->setSingleStep(0.05);
    overlap_->setValue(s.overlap());
    form->addRow(tr("Overlap"), overlap_);
    segment_->setRange(0, 60);
    segment_->setSpecialValueText(tr("Model's own"));
    segment_->setSuffix(" s");
    segment_->setValue(s.segment());
    form->addRow(tr("Segment"), segment_);
    threads_->setRange(0, 256);
    threads_->setSpecialValueText(tr("All cores"));
    threads_->setValue(s.threads());
    form->addRow(tr("CPU threads"), threads_);
    cpuJobs_->setRange(1, 8);
    cpuJobs_->setValue(s.cpuJobs());
    form->addRow(tr("Songs at once (CPU)"), cpuJobs_);
    format_->addItem(tr("FLAC 24-bit"), "flac24");
    format_->addItem(tr("WAV 32-bit float"), "wav32f");
    format_->setCurrentIndex(std::max(0, format_->findData(s.resultFormat())));
    form->addRow(tr("Library format"), format_);
    cache_->setText(s.modelCache());
    form->addRow(tr("Model folder"), cache_);
    ytDlp_->setText(s.ytDlpPath());
    ytDlp_->setPlaceholderText(tr("yt-dlp from PATH"));
    form->addRow(tr("yt-dlp"), ytDlp_);
    remoteUrl_->setText(s.remoteUrl());
    remoteUrl_->setPlaceholderText(tr("empty: separate on this computer"));
    form->addRow(tr("Remote server"), remoteUrl_);
    remoteToken_->setText(s.remoteToken());
    remoteToken_->setEchoMode(QLineEdit::Password);
    form->addRow(tr("Remote token"), remoteToken_);
    output_->addItem(tr("System default"), QByteArray());
    for (const QAudioDevice& d : QMediaDevices::audioOutputs())
        output_->addItem(d.description(), d.id());
    output_->setCurrentIndex(
        std::max(0, output_->findData(s.value("player/output").toByteArray())));
    form->addRow(tr("Audio output"), output_);
    logLevel_->addItems({"info", "debug"});
    logLevel_->setCurrentText(s.logLevel());
    form->addRow(tr("Log level"), logLevel_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        const QString url = remoteUrl_->text().trimmed();
        if (!url.isEmpty() && !isWebAddress(url)) {
            QMessageBox::warning(this, tr("Remote server"),
                                 tr("The server address must start with http:// or https://, "
                                    "for example http://gpu-box:8000."));
            remoteUrl_->setFocus();
            return;
        }
        save();
        QDialog::accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void SettingsDialog::save() const {
    AppSettings s;
    s.setModel(model_->text().trimmed());
    s.setDevice(device_->currentData().toString());
    s.setShifts(shifts_->value());
    s.setOverlap(overlap_->value());
    s.setSegment(segment_->value());
    s.setThreads(threads_->value());
    s.setCpuJobs(cpuJobs_->value());
    s.setResultFormat(format_->currentData().toString());
    s.setModelCache(cache_->text().trimmed());
    s.setYtDlpPath(ytDlp_->text().trimmed());
    s.setRemoteUrl(remoteUrl_->text().trimmed());
    s.setRemoteToken(remoteToken_->text());
    s.setLogLevel(logLevel_->currentText());
    s.setValue("player/output", output_->currentData().toByteArray());
}

}  // namespace msplit::ui
