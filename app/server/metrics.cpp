#include "app/server/metrics.h"

namespace msplit::server {
namespace {

QString help(const char* name, const char* type, const char* text) {
    return QString("# HELP %1 %2\n# TYPE %1 %3\n").arg(name, text, type);
}

}  // namespace

void Histogram::observe(double value) {
    for (size_t i = 0; i < bounds_.size(); ++i)
        if (value <= bounds_[i]) ++counts_[i];
    sum_ += value;
    ++count_;
}

QString Histogram::render(const QString& name, const QString& labels) const {
    const QString sep = labels.isEmpty() ? "" : ",";
    QString out;
    for (size_t i = 0; i < bounds_.size(); ++i)
        out += QString("%1_bucket{%2%3le=\"%4\"} %5\n")
                   .arg(name, labels, sep)
                   .arg(bounds_[i])
                   .arg(counts_[i]);
    out += QString("%1_bucket{%2%3le=\"+Inf\"} %4\n").arg(name, labels, sep).arg(count_);
    const QString braces = labels.isEmpty() ? "" : "{" + labels + "}";
    out += QString("%1_sum%2 %3\n").arg(name, braces).arg(sum_, 0, 'f', 6);
    out += QString("%1_count%2 %3\n").arg(name, braces).arg(count_);
    return out;
}

void Metrics::observeRequest(const QString& method, const QString& route, double seconds) {
    auto it = durations_.find({method, route});
    if (it == durations_.end())
        it = durations_
                 .emplace(std::make_pair(method, route),
                          Histogram({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}))
                 .first;
    it->second.observe(seconds);
}

void Metrics::countSeparation(const QString& outcome, double seconds) {
    ++separations_[outcome];
    if (outcome == "done") separationSeconds_.observe(seconds);
}

void Metrics::countJobTimes(double waitSeconds, double runSeconds) {
    waitSum_ += waitSeconds;
    runSum_ += runSeconds;
    ++timedCount_;
}

QByteArray Metrics::render(const Gauges& g) const {
    QString out =
        help("music_split_requests_total", "counter", "HTTP requests by route and status code.");
    for (const auto& [key, n] : requests_)
        out += QString("music_split_requests_total{route=\"%1\",code=\"%2\"} %3\n")
                   .arg(key.first)
                   .arg(key.second)
                   .arg(n);
    out += help("http_request_duration_seconds", "histogram",
                "Time to answer HTTP requests, by method and route.");
    for (const auto& [key, h] : durations_)
        out += h.render("http_request_duration_seconds",
                        QString("method=\"%1\",endpoint=\"%2\"").arg(key.first, key.second));
    out += help("music_split_separations_total", "counter", "Finished separations by outcome.");
    for (const auto& [outcome, n] : separations_)
        out += QString("music_split_separations_total{outcome=\"%1\"} %2\n").arg(outcome).arg(n);
    out += help("music_split_separation_seconds", "summary", "Time of successful separations.");
    out +=
        QString("music_split_separation_seconds_sum %1\n").arg(separationSeconds_.sum(), 0, 'f', 3);
    out += QString("music_split_separation_seconds_count %1\n").arg(separationSeconds_.count());
    out += help("separation_duration_seconds", "histogram", "Time of successful separations.");
    out += separationSeconds_.render("separation_duration_seconds");
    out += help("separation_file_size_bytes", "histogram", "Sizes of the songs uploaded.");
    out += uploads_.render("separation_file_size_bytes");
    out += help("models_loaded", "gauge", "Models held in memory by this process.");
    out += QString("models_loaded %1\n").arg(g.modelsLoaded);
    out += help("music_split_active_jobs", "gauge", "Jobs waiting or running.");
    out += QString("music_split_active_jobs %1\n").arg(g.activeJobs);
    out += help("music_split_job_wait_seconds", "summary",
                "Time jobs waited before a separation began.");
    out += QString("music_split_job_wait_seconds_sum %1\n").arg(waitSum_, 0, 'f', 3);
    out += QString("music_split_job_wait_seconds_count %1\n").arg(timedCount_);
    out += help("music_split_job_run_seconds", "summary", "Time from a job's start to its end.");
    out += QString("music_split_job_run_seconds_sum %1\n").arg(runSum_, 0, 'f', 3);
    out += QString("music_split_job_run_seconds_count %1\n").arg(timedCount_);
    if (g.broker) {
        out += help("music_split_queue_jobs", "gauge", "Jobs in the broker's stream, by state.");
        out += QString("music_split_queue_jobs{state=\"waiting\"} %1\n").arg(g.queued);
        out += QString("music_split_queue_jobs{state=\"taken\"} %1\n").arg(g.taken);
        out += help("music_split_workers", "gauge",
                    "Live workers (announced within their time to live).");
        out += QString("music_split_workers %1\n").arg(g.workers);
    }
    return out.toUtf8();
}

}  // namespace msplit::server
