#pragma once
// The app's settings (QSettings), with the defaults of core/defaults.h. The GUI, its dialogs and
// the job queue read them from here; nothing else writes them.
#include <QSettings>
#include <QString>

namespace msplit {

class AppSettings {
public:
    AppSettings() = default;

    QString model() const;
    void setModel(const QString& v);
    QString device() const;  // auto, cpu, cuda, cuda:N
    void setDevice(const QString& v);
    int shifts() const;
    void setShifts(int v);
    double overlap() const;
    void setOverlap(double v);
    double segment() const;  // 0: the model's own
    void setSegment(double v);
    int threads() const;  // 0: all cores
    void setThreads(int v);
    int cpuJobs() const;  // separations at once on the CPU
    void setCpuJobs(int v);
    QString resultFormat() const;  // library stems: flac24 (default) or wav32f
    void setResultFormat(const QString& v);
    QString modelCache() const;
    void setModelCache(const QString& v);
    QString ytDlpPath() const;  // empty: from PATH
    void setYtDlpPath(const QString& v);
    QString remoteUrl() const;
    void setRemoteUrl(const QString& v);
    QString remoteToken() const;
    void setRemoteToken(const QString& v);
    QString logLevel() const;  // info or debug
    void setLogLevel(const QString& v);
    // The export dialog's last choices, stored as they are.
    QVariant value(const QString& key, const QVariant& fallback = {}) const;
    void setValue(const QString& key, const QVariant& v);

private:
    mutable QSettings s_;
};

}  // namespace msplit
