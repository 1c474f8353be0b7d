#include "app/server/metrics.h"

namespace msplit::server {

void Metrics::countSeparation(const QString& outcome, double seconds) {
    ++separations_[outcome];
    if (outcome == "done") {
        secondsSum_ += seconds;
        ++secondsCount_;
    }
}

void Metrics::countJobTimes(double waitSeconds, double runSeconds) {
    waitSum_ += waitSeconds;
    runSum_ += runSeconds;
    ++timedCount_;
}

QByteArray Metrics::render(const Gauges& g) const {
    QString out;
    out +=
        "# HELP music_split_requests_total HTTP requests by route and status code.\n"
        "# TYPE music_split_requests_total counter\n";
    for (const auto& [key, n] : requests_)
        out += QString("music_split_requests_total{route=\"%1\",code=\"%2\"} %3\n")
                   .arg(key.first)
                   .arg(key.second)
                   .arg(n);
    out +=
        "# HELP music_split_separations_total Finished separations by outcome.\n"
        "# TYPE music_split_separations_total counter\n";
    for (const auto& [outcome, n] : separations_)
        out += QString("music_split_separations_total{outcome=\"%1\"} %2\n").arg(outcome).arg(n);
    out +=
        "# HELP music_split_separation_seconds Time of successful separations.\n"
        "# TYPE music_split_separation_seconds summary\n";
    out += QString("music_split_separation_seconds_sum %1\n").arg(secondsSum_, 0, 'f', 3);
    out += QString("music_split_separation_seconds_count %1\n").arg(secondsCount_);
    out +=
        "# HELP music_split_active_jobs Jobs waiting or running.\n"
        "# TYPE music_split_active_jobs gauge\n";
    out += QString("music_split_active_jobs %1\n").arg(g.activeJobs);
    out +=
        "# HELP music_split_job_wait_seconds Time jobs waited before a separation began.\n"
        "# TYPE music_split_job_wait_seconds summary\n";
    out += QString("music_split_job_wait_seconds_sum %1\n").arg(waitSum_, 0, 'f', 3);
    out += QString("music_split_job_wait_seconds_count %1\n").arg(timedCount_);
    out +=
        "# HELP music_split_job_run_seconds Time from a job's start to its end.\n"
        "# TYPE music_split_job_run_seconds summary\n";
    out += QString("music_split_job_run_seconds_sum %1\n").arg(runSum_, 0, 'f', 3);
    out += QString("music_split_job_run_seconds_count %1\n").arg(timedCount_);
    if (g.broker) {
        out +=
            "# HELP music_split_queue_jobs Jobs in the broker's stream, by state.\n"
            "# TYPE music_split_queue_jobs gauge\n";
        out += QString("music_split_queue_jobs{state=\"waiting\"} %1\n").arg(g.queued);
        out += QString("music_split_queue_jobs{state=\"taken\"} %1\n").arg(g.taken);
        out +=
            "# HELP music_split_workers Live workers (announced within their time to live).\n"
            "# TYPE music_split_workers gauge\n";
        out += QString("music_split_workers %1\n").arg(g.workers);
    }
    return out.toUtf8();
}

}  // namespace msplit::server
