#pragma once
// Counters for GET /metrics, in Prometheus' text exposition format (a few plain lines; no
// Prometheus client library is packaged for C++ in Debian).
#include <QByteArray>
#include <QString>

#include <map>
#include <utility>

namespace msplit::server {

class Metrics {
public:
    void countRequest(const QString& route, int status) { ++requests_[{route, status}]; }
    void countSeparation(const QString& outcome, double seconds);
    void countJobTimes(double waitSeconds, double runSeconds);
    struct Gauges {
        int activeJobs = 0;
        bool broker = false;  // the rest only with a broker
        long long queued = 0, taken = 0;
        int workers = 0;
    };
    QByteArray render(const Gauges& gauges) const;

private:
    std::map<std::pair<QString, int>, long long> requests_;
    std::map<QString, long long> separations_;
    double secondsSum_ = 0;
    long long secondsCount_ = 0;
    double waitSum_ = 0, runSum_ = 0;
    long long timedCount_ = 0;
};

}  // namespace msplit::server
