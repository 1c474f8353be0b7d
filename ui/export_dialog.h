#pragma once
// Export a result: destination, format, stems or two stems, name template. Remembers the last
// choices; asks before overwriting; writes in the background with a progress bar.
#include <QDialog>

#include "core/jobs/export.h"
#include "core/player/player.h"

class QCheckBox;
class QComboBox;
class QLineEdit;
class QProgressBar;
class QSpinBox;
class QDialogButtonBox;

namespace msplit::ui {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // `player`: the result's track view's, for exporting the mix as heard.
    ExportDialog(const JobRecord& record, QWidget* parent = nullptr,
                 const Player* player = nullptr);

    ExportOptions options() const;
    // Exports with the current choices; returns the files written, or an error message in `error`.
    // Runs on the thread pool and keeps the dialog responsive.
    QStringList runExport(QString* error);
    void setDestination(const QString& dir);
    void setFormat(const QString& key);  // wav16, wav24, wav32f, flac16, flac24, mp3
    void setStemChecked(const QString& stem, bool on);
    void setTwoStems(const QString& stem);  // empty: off
    void setCurrentMix(bool on);
    // Skips the overwrite question (answers yes); for tests and scripted use.
    bool assumeOverwrite = false;

private:
    void accept() override;
    void remember() const;
    JobRecord record_;
    const Player* player_;
    QCheckBox* currentMix_;
    QLineEdit* destination_;
    QComboBox* format_;
    QSpinBox* bitrate_;
    QComboBox* twoStems_;
    QLineEdit* template_;
    QList<QCheckBox*> stems_;
    QProgressBar* progress_;
    QDialogButtonBox* buttons_;
};

}  // namespace msplit::ui
