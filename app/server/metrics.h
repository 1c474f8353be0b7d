#pragma once
// Counters for GET /metrics, in Prometheus' text exposition format (a few plain lines; no
// Prometheus client library is packaged for C++ in Debian). Beside our own names, the hosted
// service's: http_request_duration_seconds, separation_duration_seconds,
// separation_file_size_bytes and models_loaded, so one dashboard reads both.
#include <QByteArray>
#include <QString>

#include <map>
#include <utility>
#include <vector>

namespace msplit::server {

// A Prometheus histogram: cumulative buckets, sum and count.
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds = {})
        : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
    void observe(double value);
    // NAME_bucket{LABELS,le="..."}, NAME_sum{LABELS}, NAME_count{LABELS}.
    QString render(const QString& name, const QString& labels = {}) const;
    double sum() const { return sum_; }
    long long count() const { return count_; }

private:
    std::vector<double> bounds_;
    std::vector<long long> counts_;
    double sum_ = 0;
    long long count_ = 0;
};

class Metrics {
public:
    void countRequest(const QString& route, int status) { ++requests_[{route, status}]; }
    void observeRequest(const QString& method, const QString& route, double seconds);
    void countSeparation(const QString& outcome, double seconds);
    void countJobTimes(double waitSeconds, double runSeconds);
    void observeUpload(double bytes) { uploads_.observe(bytes); }
    struct Gauges {
        int activeJobs = 0;
        int modelsLoaded = 0;
        bool broker = false;  // the rest only with a broker
        long long queued = 0, taken = 0;
        int workers = 0;
    };
    QByteArray render(const Gauges& gauges) const;

private:
    std::map<std::pair<QString, int>, long long> requests_;
    std::map<std::pair<QString, QString>, Histogram> durations_;  // (method, route)
    std::map<QString, long long> separations_;
    Histogram separationSeconds_{{5, 10, 30, 60, 120, 300, 600, 1200, 3600}};
    Histogram uploads_{{1e6, 5e6, 10e6, 25e6, 50e6, 100e6, 200e6, 500e6}};
    double waitSum_ = 0, runSum_ = 0;
    long long timedCount_ = 0;
};

}  // namespace msplit::server
