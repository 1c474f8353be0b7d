#include "core/broker/job_stream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include "core/error.h"

namespace msplit::broker {
namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < s.size()) {
        const size_t end = std::min(s.find(',', start), s.size());
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

QJsonArray toArray(const std::vector<std::string>& v) {
    QJsonArray a;
    for (const auto& s : v)
        a.append(QString::fromStdString(s));
    return a;
}

}  // namespace

void JobStream::ensureGroup() {
    try {
        redis_.command({"XGROUP", "CREATE", kStream, kGroup, "0", "MKSTREAM"});
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Internal || e.reason().rfind("BUSYGROUP", 0) != 0) throw;
    }
}

std::string JobStream::add(const StreamJob& job) {
    return redis_
        .command({"XADD", kStream, "*", "job", job.job, "model", job.model, "api", job.api, "token",
                  job.token, "refused", join(job.refusedBy)})
        .str;
}

void JobStream::remove(const std::string& messageId) {
    redis_.command({"XACK", kStream, kGroup, messageId});
    redis_.command({"XDEL", kStream, messageId});
}

std::optional<StreamJob> JobStream::fromEntry(const RedisReply& entry) {
    StreamJob j;
    j.messageId = entry.at(0).str;
    const RedisReply& fields = entry.at(1);
    if (fields.isNil()) {  // deleted while pending (Redis 6.2 shows it so): nothing to run
        redis_.command({"XACK", kStream, kGroup, j.messageId});
        return std::nullopt;
    }
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
        const std::string& k = fields.elements[i].str;
        const std::string& v = fields.elements[i + 1].str;
        if (k == "job") j.job = v;
        if (k == "model") j.model = v;
        if (k == "api") j.api = v;
        if (k == "token") j.token = v;
        if (k == "refused") j.refusedBy = split(v);
    }
    if (j.job.empty() || j.api.empty()) {  // not one of ours: dropped, not retried forever
        remove(j.messageId);
        return std::nullopt;
    }
    j.deliveries = deliveries(j.messageId);
    return j;
}

std::optional<StreamJob> JobStream::claimStale(const std::string& worker, int idleMs) {
    std::string cursor = "0-0";
    do {
        const RedisReply r = redis_.command(
            {"XAUTOCLAIM", kStream, kGroup, worker, std::to_string(idleMs), cursor, "COUNT", "1"});
        // One at a time: a claimed job is this worker's until it stops renewing it.
        cursor = r.at(0).str;
        for (const RedisReply& entry : r.at(1).elements)
            if (auto j = fromEntry(entry)) return j;
    } while (!cursor.empty() && cursor != "0-0");
    return std::nullopt;
}

std::optional<StreamJob> JobStream::next(const std::string& worker, int blockMs) {
    const RedisReply r = redis_.command({"XREADGROUP", "GROUP", kGroup, worker, "COUNT", "1",
                                         "BLOCK", std::to_string(blockMs), "STREAMS", kStream, ">"},
                                        blockMs + 5000);
    // [[stream, [[id, [field, value, ...]]]]] or nil when the time ran out.
    for (const RedisReply& stream : r.elements)
        for (const RedisReply& entry : stream.at(1).elements)
            if (auto j = fromEntry(entry)) return j;
    return std::nullopt;
}

int JobStream::deliveries(const std::string& messageId, std::string* owner) {
    const RedisReply r = redis_.command({"XPENDING", kStream, kGroup, messageId, messageId, "1"});
    const RedisReply& e = r.at(0);
    if (owner) *owner = e.at(1).str;
    return e.isNil() ? 0 : int(e.at(3).integer);
}

bool JobStream::renew(const std::string& worker, const std::string& messageId) {
    std::string owner;
    if (deliveries(messageId, &owner) == 0 || owner != worker) return false;
    const RedisReply r =
        redis_.command({"XCLAIM", kStream, kGroup, worker, "0", messageId, "JUSTID"});
    return !r.elements.empty();
}

void JobStream::announce(const WorkerInfo& w, int ttlSeconds) {
    const QJsonObject o{{"name", QString::fromStdString(w.name)},
                        {"device", QString::fromStdString(w.device)},
                        {"job", QString::fromStdString(w.job)},
                        {"models", toArray(w.models)}};
    redis_.command({"SET", kWorkerPrefix + w.name,
                    QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString(), "EX",
                    std::to_string(ttlSeconds)});
}

void JobStream::leave(const std::string& worker) {
    redis_.command({"DEL", kWorkerPrefix + worker});
}

std::vector<WorkerInfo> JobStream::workers() {
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
        const RedisReply r = redis_.command(
            {"SCAN", cursor, "MATCH", std::string(kWorkerPrefix) + "*", "COUNT", "100"});
        cursor = r.at(0).str;
        for (const RedisReply& k : r.at(1).elements)
            keys.push_back(k.str);
    } while (cursor != "0" && !cursor.empty());
    std::vector<WorkerInfo> out;
    for (const auto& key : keys) {
        const RedisReply v = redis_.command({"GET", key});
        if (v.isNil()) continue;  // expired between the two
        const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(v.str)).object();
        WorkerInfo w;
        w.name = o["name"].toString().toStdString();
        w.device = o["device"].toString().toStdString();
        w.job = o["job"].toString().toStdString();
        for (const QJsonValue& m : o["models"].toArray())
            w.models.push_back(m.toString().toStdString());
        out.push_back(w);
    }
    return out;
}

QueueStats JobStream::stats() {
    QueueStats s;
    const long long length = redis_.command({"XLEN", kStream}).integer;
    s.taken = redis_.command({"XPENDING", kStream, kGroup}).at(0).integer;
    s.waiting = std::max(0LL, length - s.taken);
    return s;
}

}  // namespace msplit::broker
