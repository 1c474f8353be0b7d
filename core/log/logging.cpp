#include "core/log/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <QDateTime>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtGlobal>

#include "core/engine/engine.h"
#include "core/paths.h"

namespace msplit {
namespace {

std::string g_logFile;
thread_local std::string t_requestId;

// One JSON object per line; Qt writes the JSON, so any message text stays valid.
class JsonFormatter : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch())
                .count();
        QJsonObject o{
            {"time", QDateTime::fromMSecsSinceEpoch(ms).toUTC().toString(Qt::ISODateWithMs)},
            {"level", QString::fromLatin1(spdlog::level::to_string_view(msg.level).data())},
            {"logger", QString::fromUtf8(msg.logger_name.data(), int(msg.logger_name.size()))},
            {"message", QString::fromUtf8(msg.payload.data(), int(msg.payload.size()))}};
        if (!t_requestId.empty()) o["request_id"] = QString::fromStdString(t_requestId);
        const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
        dest.append(line.constData(), line.constData() + line.size());
    }
    std::unique_ptr<formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

void qtMessages(QtMsgType type, const QMessageLogContext&, const QString& message) {
    const std::string text = message.toStdString();
    switch (type) {
        case QtDebugMsg:
            spdlog::debug("qt: {}", text);
            break;
        case QtInfoMsg:
            spdlog::info("qt: {}", text);
            break;
        case QtWarningMsg:
            spdlog::warn("qt: {}", text);
            break;
        case QtCriticalMsg:
        case QtFatalMsg:
            spdlog::error("qt: {}", text);
            break;
    }
}

}  // namespace

LogRequestId::LogRequestId(std::string id) : previous_(std::move(t_requestId)) {
    t_requestId = std::move(id);
}

LogRequestId::~LogRequestId() {
    t_requestId = std::move(previous_);
}

void initLogging(bool verbose, const std::string& logDir, bool json) {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(verbose ? spdlog::level::debug
                       : json  ? spdlog::level::info
                               : spdlog::level::warn);
    if (json) console->set_formatter(std::make_unique<JsonFormatter>());
    std::vector<spdlog::sink_ptr> sinks{console};

    const std::string dir = logDir.empty() ? paths::stateDir() : logDir;
    g_logFile.clear();
    if (QDir().mkpath(QString::fromStdString(dir))) {
        try {
            const std::string file = dir + "/music-split.log";
            auto rotating =
                std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file, 5 * 1024 * 1024, 3);
            rotating->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
            sinks.push_back(rotating);
            g_logFile = file;
        } catch (const spdlog::spdlog_ex& e) {
            console->log(
                spdlog::details::log_msg("music-split", spdlog::level::warn,
                                         std::string("cannot open the log file: ") + e.what()));
        }
    }
    auto logger = std::make_shared<spdlog::logger>("music-split", sinks.begin(), sinks.end());
    logger->set_level(spdlog::level::debug);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    qInstallMessageHandler(qtMessages);
    engine::setLogCallback([](engine::LogLevel level, const std::string& message) {
        switch (level) {
            case engine::LogLevel::Debug:
                spdlog::debug("engine: {}", message);
                break;
            case engine::LogLevel::Info:
                spdlog::info("engine: {}", message);
                break;
            case engine::LogLevel::Warning:
                spdlog::warn("engine: {}", message);
                break;
            case engine::LogLevel::Error:
                spdlog::error("engine: {}", message);
                break;
        }
    });
    // Which kernels run the matrix products decides the speed (engine/blas.h): in every log.
    if (const std::string blas = engine::blasDescription(); !blas.empty())
        spdlog::info("matrix products: {}", blas);
}

std::string logFilePath() {
    return g_logFile;
}

}  // namespace msplit
