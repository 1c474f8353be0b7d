#pragma once
// The listening socket of music-split-server, in front of Qt's HTTP server. Qt's server (6.4 and
// 6.8) reads a whole request into memory before any handler runs, and bounds neither the header
// nor the body, so a size check in a handler comes too late. The gate reads each connection's
// first request head itself (parsed by Poco), answers 413/431/400/503 before a byte of the body is
// taken, and only then hands the connection to Qt. On a kept-alive connection it counts the bytes
// of every later request and cuts the connection when one goes past the largest limit.
//
// Uploads never reach Qt: for the routes `Limits::spool` names, the gate writes the body to a
// file as it arrives and calls its `Spooled` handler with it, then answers and closes. It does so
// for a later request on a kept-alive connection too when that request's head arrives whole.
#include <QByteArray>
#include <QHttpServerResponse>
#include <QMap>
#include <QString>
#include <QTcpServer>

#include <functional>
#include <memory>

#include "app/server/spool_file.h"

class QTcpSocket;

namespace msplit::server {

struct RequestHead;  // what the gate read of a request head (request_gate.cpp)

// A request whose body was written to a spool file.
struct SpooledRequest {
    QString method, path;
    QMap<QByteArray, QByteArray> headers;  // names in lower case
    QByteArray header(const QByteArray& name) const { return headers.value(name.toLower()); }
    std::shared_ptr<SpoolFile> body;  // flushed; removed after the answer unless moved
    qint64 size = 0;
};

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
        // Requests whose bodies go to a file in spoolFolder and to the Spooled handler.
        std::function<bool(const QString& method, const QString& path)> spool;
        QString spoolFolder;
    };
    // Called for every request the gate refuses itself (its path and status).
    using Refused = std::function<void(const QString& path, int status)>;
    using Spooled = std::function<QHttpServerResponse(const SpooledRequest&)>;

    RequestGate(Limits limits, Refused refused, Spooled spooled = {}, QObject* parent = nullptr);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    struct Connection;
    using Head = RequestHead;
    void readHead(QTcpSocket* socket, Connection& c);
    // A later request on a connection Qt has: true when the gate took it (an upload).
    bool takeUpload(QTcpSocket* socket, Connection& c);
    // The head's limits; false when the gate refused the request.
    bool admissible(QTcpSocket* socket, Connection& c, const Head& head);
    void startSpool(QTcpSocket* socket, Connection& c, const Head& head);
    void spoolBody(QTcpSocket* socket, Connection& c);
    void count(QTcpSocket* socket, Connection& c);
    void refuse(QTcpSocket* socket, Connection& c, int status, const QString& detail,
                const QString& path);
    // Writes `reply` and closes the connection once it is out.
    void answer(QTcpSocket* socket, Connection& c, const QByteArray& reply);
    void release(Connection& c, qint64 bytes);

    Limits limits_;
    Refused refused_;
    Spooled spooled_;
    qint64 inFlight_ = 0;
};

}  // namespace msplit::server
