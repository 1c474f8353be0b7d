#pragma once
// The listening socket of music-split-server, in front of Qt's HTTP server. Qt's server (6.4 and
// 6.8) reads a whole request into memory before any handler runs, and bounds neither the header
// nor the body, so a size check in a handler comes too late. The gate reads each connection's
// first request head itself (parsed by Poco), answers 413/431/400/503 before a byte of the body is
// taken, and only then hands the connection to Qt. On a kept-alive connection it counts the bytes
// of every later request and cuts the connection when one goes past the largest limit.
#include <QByteArray>
#include <QString>
#include <QTcpServer>

#include <functional>

class QTcpSocket;

namespace msplit::server {

class RequestGate : public QTcpServer {
    Q_OBJECT
public:
    struct Limits {
        // Largest body accepted for a method and path; the most any request may send.
        std::function<qint64(const QString& method, const QString& path)> body;
        qint64 largestBody = 1 << 20;
        qint64 head = 64 << 10;       // request line and headers
        qint64 inFlight = 1LL << 30;  // bodies being received, all connections together
        int headSeconds = 30;         // a client that takes longer to send its head is cut
        int idleSeconds = 600;        // a connection with no traffic for this long is closed
        QString tooLarge = "request body too large";  // the 413's detail
    };
    // Called for every request the gate answers itself (its path and status).
    using Refused = std::function<void(const QString& path, int status)>;

    RequestGate(Limits limits, Refused refused, QObject* parent = nullptr);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    struct Connection;
    void readHead(QTcpSocket* socket, Connection& c);
    void count(QTcpSocket* socket, Connection& c);
    void refuse(QTcpSocket* socket, Connection& c, int status, const QString& detail,
                const QString& path);
    void release(Connection& c, qint64 bytes);

    Limits limits_;
    Refused refused_;
    qint64 inFlight_ = 0;
};

}  // namespace msplit::server
