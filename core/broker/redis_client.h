#pragma once
// One blocking connection to Redis through hiredis (Debian's libhiredis). Not thread-safe: each
// thread that talks to Redis has its own. A lost connection is made again on the next command.
#include <QString>

#include <string>
#include <vector>

struct redisContext;

namespace msplit::broker {

struct RedisAddress {
    std::string host = "127.0.0.1";
    int port = 6379;
    int db = 0;
    std::string user, password;   // empty: no AUTH
    std::string display() const;  // host:port/db, never the password
};

// redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; a non-empty `passwordFile` (its first line) wins
// over the URL's password. Throws Error(InvalidInput) with what is wrong.
RedisAddress parseRedisUrl(const QString& url, const QString& passwordFile = {});

// At a program's start: empty when Redis can be used or is only unreachable (it may come back),
// else what is wrong (refused password, unknown database, a server that is not Redis).
QString probeBroker(const QString& url, const QString& passwordFile);

// A RESP2 reply, copied out of hiredis.
struct RedisReply {
    enum class Type { Nil, String, Integer, Array, Status };
    Type type = Type::Nil;
    std::string str;  // String and Status
    long long integer = 0;
    std::vector<RedisReply> elements;

    bool isNil() const { return type == Type::Nil; }
    const RedisReply& at(size_t i) const;  // Nil beyond the end
};

class RedisClient {
public:
    explicit RedisClient(RedisAddress address, int timeoutMs = 5000);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Connects (with AUTH and SELECT) unless connected. Throws Error: Network when Redis cannot be
    // reached, InvalidInput when it refuses the password or the database.
    void connect();
    // Runs one command, connecting first when needed. Throws Error(Network) when the connection
    // fails or breaks, and Error(Internal) with Redis' message when it answers an error (the
    // connection stays usable then).
    RedisReply command(const std::vector<std::string>& args);
    // For one command that blocks on the server (XREADGROUP BLOCK): the socket's read timeout.
    RedisReply command(const std::vector<std::string>& args, int timeoutMs);
    const RedisAddress& address() const { return address_; }

private:
    void disconnect();

    RedisAddress address_;
    int timeoutMs_;
    redisContext* context_ = nullptr;
};

}  // namespace msplit::broker
