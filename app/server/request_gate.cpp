#include "app/server/request_gate.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>
#include <sstream>

namespace msplit::server {

struct RequestGate::Connection {
    bool admitted = false;  // handed to Qt's server
    bool refused = false;   // answered by the gate; what still comes is thrown away
    qint64 unanswered = 0;  // bytes received since the last reply was written
    QString path;           // of the first request, for the counters
    bool answered = false;  // a reply went out: later requests' paths are not known here
    QTimer* timer = nullptr;
};

namespace {

const char* reasonPhrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 408:
            return "Request Timeout";
        case 413:
            return "Payload Too Large";
        case 431:
            return "Request Header Fields Too Large";
        default:
            return "Service Unavailable";
    }
}

// Where the head ends (after its blank line), or -1. Qt's parser takes LF alone as a line end, so
// the gate does too: a head it could not see the end of would otherwise pass unchecked.
qsizetype headEnd(const QByteArray& data) {
    const qsizetype crlf = data.indexOf("\r\n\r\n"), lf = data.indexOf("\n\n");
    if (crlf < 0) return lf < 0 ? -1 : lf + 2;
    if (lf < 0 || crlf < lf) return crlf + 4;
    return lf + 2;
}

}  // namespace

RequestGate::RequestGate(Limits limits, Refused refused, QObject* parent)
    : QTcpServer(parent), limits_(std::move(limits)), refused_(std::move(refused)) {}

void RequestGate::incomingConnection(qintptr descriptor) {
    auto* socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    auto c = std::make_shared<Connection>();
    c->timer = new QTimer(socket);
    c->timer->setSingleShot(true);
    connect(c->timer, &QTimer::timeout, socket, [this, socket, c] {
        if (c->admitted || c->refused) {
            socket->abort();  // idle for too long, or a refused client that keeps the line open
            return;
        }
        refuse(socket, *c, 408, tr("the request head took too long"), {});
    });
    c->timer->start(limits_.headSeconds * 1000);
    // Connected before Qt's server connects its own reader, so this runs first on every read.
    connect(socket, &QTcpSocket::readyRead, this, [this, socket, c] {
        if (c->refused) {
            socket->read(socket->bytesAvailable());  // a lingering close: read and drop
        } else if (c->admitted) {
            count(socket, *c);
        } else {
            readHead(socket, *c);
        }
    });
    connect(socket, &QTcpSocket::bytesWritten, this, [this, socket, c] {
        if (socket->bytesToWrite() > 0) return;
        if (c->refused) {
            ::shutdown(socket->socketDescriptor(), SHUT_WR);  // the reply is out: say so
        } else if (c->admitted) {
            release(*c, c->unanswered);  // a reply went out: the request is done
            c->answered = true;
        }
    });
    connect(socket, &QTcpSocket::disconnected, this, [socket, c] {
        if (!c->admitted) socket->deleteLater();  // once admitted, Qt's server deletes it
    });
    connect(socket, &QObject::destroyed, this, [this, c] { release(*c, c->unanswered); });
}

void RequestGate::readHead(QTcpSocket* socket, Connection& c) {
    const QByteArray data = socket->peek(limits_.head + 1);
    const qsizetype end = headEnd(data);
    if (end < 0) {
        if (data.size() > limits_.head)
            refuse(socket, c, 431, tr("the request head is over %1 bytes").arg(limits_.head), {});
        return;
    }
    Poco::Net::HTTPRequest request;
    qint64 declared = 0;
    try {
        std::istringstream in(data.left(end).toStdString());
        request.read(in);
        if (request.hasContentLength()) declared = request.getContentLength64();
    } catch (const Poco::Exception&) {
        refuse(socket, c, 400, tr("malformed request head"), {});
        return;
    }
    QString target = QString::fromStdString(request.getURI());
    c.path = target.left(target.indexOf('?'));
    const QString method = QString::fromStdString(request.getMethod());
    if (request.hasContentLength() && request.getChunkedTransferEncoding()) {
        // Two ways of telling the length: a proxy and this server could disagree (smuggling).
        refuse(socket, c, 400, tr("both Content-Length and chunked transfer encoding"), c.path);
        return;
    }
    if (declared < 0) {
        refuse(socket, c, 400, tr("malformed request head"), c.path);
        return;
    }
    const qint64 allowed = limits_.body ? limits_.body(method, c.path) : limits_.largestBody;
    if (declared > allowed) {
        refuse(socket, c, 413, limits_.tooLarge, c.path);
        return;
    }
    if (inFlight_ + declared > limits_.inFlight) {
        refuse(socket, c, 503, tr("too many uploads at once; try again later"), c.path);
        return;
    }
    c.admitted = true;
    c.timer->start(limits_.idleSeconds * 1000);
    addPendingConnection(socket);  // Qt's server takes it (pendingConnectionAvailable)
    // What is already buffered raises no new readyRead: raise one, as Qt does after each request.
    QMetaObject::invokeMethod(socket, &QTcpSocket::readyRead, Qt::QueuedConnection);
}

void RequestGate::count(QTcpSocket* socket, Connection& c) {
    const qint64 fresh = socket->bytesAvailable();
    c.unanswered += fresh;
    inFlight_ += fresh;
    c.timer->start(limits_.idleSeconds * 1000);
    // A later request on a kept-alive connection: its head was not seen here, so only the largest
    // limit applies. Its bytes are dropped before Qt's reader runs.
    if (c.unanswered > limits_.largestBody + limits_.head) {
        socket->read(fresh);
        refuse(socket, c, 413, limits_.tooLarge, c.answered ? QString() : c.path);
    } else if (inFlight_ > limits_.inFlight + limits_.head) {
        socket->read(fresh);
        refuse(socket, c, 503, tr("too many uploads at once; try again later"),
               c.answered ? QString() : c.path);
    }
}

void RequestGate::refuse(QTcpSocket* socket, Connection& c, int status, const QString& detail,
                         const QString& path) {
    const QByteArray body =
        QJsonDocument(QJsonObject{{"detail", detail}}).toJson(QJsonDocument::Compact);
    QByteArray reply =
        "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
        "\r\nConnection: close\r\n";
    if (status == 503) reply += "Retry-After: 5\r\n";
    reply += "\r\n" + body;
    c.refused = true;
    release(c, c.unanswered);
    socket->write(reply);
    // Reading on until the client stops (at most a few seconds) lets it see the reply: closing
    // with its body still arriving would reset the connection and could lose the reply.
    c.timer->start(5000);
    if (refused_) refused_(path, status);
}

void RequestGate::release(Connection& c, qint64 bytes) {
    inFlight_ -= bytes;
    c.unanswered -= bytes;
}

}  // namespace msplit::server
