#include "core/broker/redis_client.h"

#include <QFile>
#include <QUrl>

#include <hiredis/hiredis.h>

#include "core/error.h"

namespace msplit::broker {
namespace {

timeval toTimeval(int ms) {
    return timeval{ms / 1000, (ms % 1000) * 1000};
}

RedisReply copy(const redisReply* r) {
    RedisReply out;
    switch (r->type) {
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            out.type =
                r->type == REDIS_REPLY_STRING ? RedisReply::Type::String : RedisReply::Type::Status;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER:
            out.type = RedisReply::Type::Integer;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = RedisReply::Type::Array;
            out.elements.reserve(r->elements);
            for (size_t i = 0; i < r->elements; ++i)
                out.elements.push_back(copy(r->element[i]));
            break;
        default:  // Nil (RESP3 types are never asked for)
            break;
    }
    return out;
}

}  // namespace

std::string RedisAddress::display() const {
    return host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

RedisAddress parseRedisUrl(const QString& text, const QString& passwordFile) {
    const QUrl url(text, QUrl::StrictMode);
    auto bad = [&](const QString& why) {
        // The URL may hold a password: it is not repeated in the message.
        return Error(ErrorKind::InvalidInput, "--broker", why.toStdString());
    };
    if (!url.isValid() || url.scheme() != "redis" || url.host().isEmpty())
        throw bad("expected redis://[:PASSWORD@]HOST[:PORT][/DB]");
    RedisAddress a;
    a.host = url.host().toStdString();
    a.port = url.port(6379);
    const QString path = url.path().mid(1);
    if (!path.isEmpty()) {
        bool ok = false;
        a.db = path.toInt(&ok);
        if (!ok || a.db < 0) throw bad(QString("'%1' is not a database number").arg(path));
    }
    a.user = url.userName().toStdString();
    a.password = url.password().toStdString();
    if (!passwordFile.isEmpty()) {
        QFile f(passwordFile);
        if (!f.open(QIODevice::ReadOnly))
            throw Error(ErrorKind::NotFound, passwordFile.toStdString(),
                        "cannot read the broker's password file");
        a.password = QString::fromUtf8(f.readLine()).trimmed().toStdString();
    }
    return a;
}

QString probeBroker(const QString& url, const QString& passwordFile) {
    try {
        RedisClient redis(parseRedisUrl(url, passwordFile), 3000);
        redis.command({"PING"});
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Network) return QString::fromUtf8(e.what());
    }
    return {};
}

const RedisReply& RedisReply::at(size_t i) const {
    static const RedisReply nil;
    return i < elements.size() ? elements[i] : nil;
}

RedisClient::RedisClient(RedisAddress address, int timeoutMs)
    : address_(std::move(address)), timeoutMs_(timeoutMs) {}

RedisClient::~RedisClient() {
    disconnect();
}

void RedisClient::disconnect() {
    if (context_) redisFree(context_);
    context_ = nullptr;
}

void RedisClient::connect() {
    if (context_) return;
    redisContext* c =
        redisConnectWithTimeout(address_.host.c_str(), address_.port, toTimeval(timeoutMs_));
    if (!c || c->err) {
        const std::string why = c ? c->errstr : "out of memory";
        if (c) redisFree(c);
        throw Error(ErrorKind::Network, "redis://" + address_.display(),
                    "cannot connect to Redis: " + why);
    }
    redisSetTimeout(c, toTimeval(timeoutMs_));
    context_ = c;
    try {
        if (!address_.password.empty()) {
            std::vector<std::string> auth = {"AUTH"};
            if (!address_.user.empty()) auth.push_back(address_.user);
            auth.push_back(address_.password);
            command(auth);
        }
        if (address_.db != 0) command({"SELECT", std::to_string(address_.db)});
    } catch (const Error& e) {
        disconnect();
        if (e.kind() == ErrorKind::Network) throw;
        throw Error(ErrorKind::InvalidInput, "redis://" + address_.display(),
                    "Redis refused the connection: " + e.reason());
    }
}

RedisReply RedisClient::command(const std::vector<std::string>& args) {
    return command(args, timeoutMs_);
}

RedisReply RedisClient::command(const std::vector<std::string>& args, int timeoutMs) {
    connect();
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    if (timeoutMs != timeoutMs_) redisSetTimeout(context_, toTimeval(timeoutMs));
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(context_, int(argv.size()), argv.data(), lengths.data()));
    if (!r) {  // the connection is broken (or timed out): make a new one next time
        const std::string why = context_->errstr;
        disconnect();
        throw Error(ErrorKind::Network, "redis://" + address_.display(),
                    "lost the connection to Redis: " + why);
    }
    if (timeoutMs != timeoutMs_) redisSetTimeout(context_, toTimeval(timeoutMs_));
    if (r->type == REDIS_REPLY_ERROR) {
        std::string why(r->str, r->len);
        freeReplyObject(r);
        throw Error(ErrorKind::Internal, args.empty() ? std::string() : args.front(), why);
    }
    RedisReply out = copy(r);
    freeReplyObject(r);
    return out;
}

}  // namespace msplit::broker
