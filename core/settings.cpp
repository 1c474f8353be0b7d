#include "core/settings.h"

#include "core/defaults.h"
#include "core/engine/engine.h"
#include "core/paths.h"

namespace msplit {

QString AppSettings::model() const {
    return s_.value("separation/model", defaults::kModel).toString();
}
void AppSettings::setModel(const QString& v) {
    s_.setValue("separation/model", v);
}
QString AppSettings::device() const {
    return s_.value("separation/device", engine::kDefaultDevice).toString();
}
void AppSettings::setDevice(const QString& v) {
    s_.setValue("separation/device", v);
}
int AppSettings::shifts() const {
    return s_.value("separation/shifts", engine::defaultOptions().shifts).toInt();
}
void AppSettings::setShifts(int v) {
    s_.setValue("separation/shifts", v);
}
double AppSettings::overlap() const {
    return s_.value("separation/overlap", engine::defaultOptions().overlap).toDouble();
}
void AppSettings::setOverlap(double v) {
    s_.setValue("separation/overlap", v);
}
double AppSettings::segment() const {
    return s_.value("separation/segment", 0.0).toDouble();
}
void AppSettings::setSegment(double v) {
    s_.setValue("separation/segment", v);
}
int AppSettings::threads() const {
    return s_.value("separation/threads", 0).toInt();
}
void AppSettings::setThreads(int v) {
    s_.setValue("separation/threads", v);
}
int AppSettings::cpuJobs() const {
    return s_.value("separation/cpuJobs", 1).toInt();
}
void AppSettings::setCpuJobs(int v) {
    s_.setValue("separation/cpuJobs", v);
}
QString AppSettings::resultFormat() const {
    return s_.value("library/format", defaults::kLibraryFormat).toString();
}
void AppSettings::setResultFormat(const QString& v) {
    s_.setValue("library/format", v);
}
QString AppSettings::modelCache() const {
    return s_.value("models/cache", QString::fromStdString(paths::modelRepo())).toString();
}
void AppSettings::setModelCache(const QString& v) {
    s_.setValue("models/cache", v);
}
QString AppSettings::ytDlpPath() const {
    return s_.value("tools/ytDlp").toString();
}
void AppSettings::setYtDlpPath(const QString& v) {
    s_.setValue("tools/ytDlp", v);
}
QString AppSettings::remoteUrl() const {
    return s_.value("remote/url").toString();
}
void AppSettings::setRemoteUrl(const QString& v) {
    s_.setValue("remote/url", v);
}
QString AppSettings::remoteToken() const {
    return s_.value("remote/token").toString();
}
void AppSettings::setRemoteToken(const QString& v) {
    s_.setValue("remote/token", v);
}
QString AppSettings::logLevel() const {
    return s_.value("app/logLevel", "info").toString();
}
void AppSettings::setLogLevel(const QString& v) {
    s_.setValue("app/logLevel", v);
}
QVariant AppSettings::value(const QString& key, const QVariant& fallback) const {
    return s_.value(key, fallback);
}
void AppSettings::setValue(const QString& key, const QVariant& v) {
    s_.setValue(key, v);
}

}  // namespace msplit
