#include "app/server/request_gate.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>
#include <algorithm>
#include <sstream>

#include "app/server/http_compat.h"

namespace msplit::server {

struct RequestHead {
    qsizetype size = 0;  // bytes, blank line included
    QString method, path;
    QMap<QByteArray, QByteArray> headers;  // names in lower case
    qint64 declared = 0;                   // Content-Length, or 0
    bool hasLength = false, chunked = false, expectContinue = false;
};

struct RequestGate::Connection {
    bool admitted = false;         // handed to Qt's server
    bool closing = false;          // answered by the gate; what still comes is thrown away
    bool spooling = false;         // an upload's body is going to `spool`
    bool betweenRequests = false;  // Qt answered; the next bytes start a request head
    qint64 unanswered = 0;         // bytes received since the last reply was written
    qint64 remaining = 0;          // of the body being spooled
    QString path;                  // of the first request, for the counters
    bool answered = false;         // a reply went out: later requests' paths are not known here
    SpooledRequest request;        // the upload being received
    QTimer* timer = nullptr;
};

namespace {

const char* reasonPhrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 410:
            return "Gone";
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
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

// False when Poco cannot read the head.
bool parseHead(const QByteArray& data, RequestHead& head) {
    try {
        Poco::Net::HTTPRequest request;
        std::istringstream in(data.toStdString());
        request.read(in);
        head.size = data.size();
        head.method = QString::fromStdString(request.getMethod());
        const QString target = QString::fromStdString(request.getURI());
        head.path = target.left(target.indexOf('?'));
        for (const auto& [name, value] : request)
            head.headers.insert(QByteArray::fromStdString(name).toLower(),
                                QByteArray::fromStdString(value));
        head.hasLength = request.hasContentLength();
        if (head.hasLength) head.declared = request.getContentLength64();
        head.chunked = request.getChunkedTransferEncoding();
        head.expectContinue = request.get("Expect", "").find("100-continue") != std::string::npos;
        return true;
    } catch (const Poco::Exception&) {
        return false;
    }
}

// An answer as Qt's server would write it, with the connection closed after it.
QByteArray serialized(const QHttpServerResponse& response) {
    const int status = static_cast<int>(response.statusCode());
    const QByteArray body = response.data();
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
                     "\r\nContent-Type: " + response.mimeType() +
                     "\r\nContent-Length: " + QByteArray::number(body.size()) +
                     "\r\nConnection: close\r\n";
    for (const auto& [name, value] : http::responseHeaders(
             response, {"X-Request-ID", "Retry-After", "Content-Disposition", "Location"}))
        out += name + ": " + value + "\r\n";
    return out + "\r\n" + body;
}

}  // namespace

RequestGate::RequestGate(Limits limits, Refused refused, Spooled spooled, QObject* parent)
    : QTcpServer(parent),
      limits_(std::move(limits)),
      refused_(std::move(refused)),
      spooled_(std::move(spooled)) {}

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
        if (c->admitted || c->closing || c->spooling) {
            socket->abort();  // idle for too long, or a refused client that keeps the line open
            return;
        }
        refuse(socket, *c, 408, tr("the request head took too long"), {});
    });
    c->timer->start(limits_.headSeconds * 1000);
    // Connected before Qt's server connects its own reader, so this runs first on every read.
    connect(socket, &QTcpSocket::readyRead, this, [this, socket, c] {
        if (c->closing) {
            socket->read(socket->bytesAvailable());  // a lingering close: read and drop
        } else if (c->spooling) {
            spoolBody(socket, *c);
        } else if (c->admitted) {
            if (!(c->betweenRequests && takeUpload(socket, *c))) count(socket, *c);
        } else {
            readHead(socket, *c);
        }
    });
    connect(socket, &QTcpSocket::bytesWritten, this, [this, socket, c] {
        if (socket->bytesToWrite() > 0 || c->spooling) return;  // (a 100 Continue went out)
        if (c->closing) {
            ::shutdown(socket->socketDescriptor(), SHUT_WR);  // the reply is out: say so
        } else if (c->admitted) {
            release(*c, c->unanswered);  // a reply went out: the request is done
            c->answered = c->betweenRequests = true;
        }
    });
    connect(socket, &QTcpSocket::disconnected, this, [socket, c] {
        if (!c->admitted) socket->deleteLater();  // once admitted, Qt's server deletes it
    });
    // A body cut short is removed with the connection's state (the last reference).
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
    RequestHead head;
    if (!parseHead(data.left(end), head)) {
        refuse(socket, c, 400, tr("malformed request head"), {});
        return;
    }
    c.path = head.path;
    if (!admissible(socket, c, head)) return;
    if (limits_.spool && spooled_ && limits_.spool(head.method, head.path)) {
        startSpool(socket, c, head);
        return;
    }
    c.admitted = true;
    c.timer->start(limits_.idleSeconds * 1000);
    addPendingConnection(socket);  // Qt's server takes it (pendingConnectionAvailable)
    // What is already buffered raises no new readyRead: raise one, as Qt does after each request.
    QMetaObject::invokeMethod(socket, &QTcpSocket::readyRead, Qt::QueuedConnection);
}

bool RequestGate::takeUpload(QTcpSocket* socket, Connection& c) {
    c.betweenRequests = false;
    if (!limits_.spool || !spooled_) return false;
    // A head that has not arrived whole goes to Qt, held within the counted limit.
    const QByteArray data = socket->peek(limits_.head + 1);
    const qsizetype end = headEnd(data);
    RequestHead head;
    if (end < 0 || !parseHead(data.left(end), head) || !limits_.spool(head.method, head.path))
        return false;
    c.path = head.path;
    c.answered = false;
    if (admissible(socket, c, head)) startSpool(socket, c, head);
    return true;
}

bool RequestGate::admissible(QTcpSocket* socket, Connection& c, const RequestHead& head) {
    if (head.hasLength && head.chunked) {
        // Two ways of telling the length: a proxy and this server could disagree (smuggling).
        refuse(socket, c, 400, tr("both Content-Length and chunked transfer encoding"), c.path);
        return false;
    }
    if (head.declared < 0) {
        refuse(socket, c, 400, tr("malformed request head"), c.path);
        return false;
    }
    const qint64 allowed =
        limits_.body ? limits_.body(head.method, head.path) : limits_.largestBody;
    if (head.declared > allowed) {
        refuse(socket, c, 413, limits_.tooLarge, c.path);
        return false;
    }
    if (inFlight_ + head.declared > limits_.inFlight) {
        refuse(socket, c, 503, tr("too many uploads at once; try again later"), c.path);
        return false;
    }
    return true;
}

void RequestGate::startSpool(QTcpSocket* socket, Connection& c, const RequestHead& head) {
    if (head.chunked) {  // the length is checked before the body comes; clients all send it
        refuse(socket, c, 411, tr("send the upload with a Content-Length"), c.path);
        return;
    }
    auto file = std::make_shared<SpoolFile>(limits_.spoolFolder);
    if (!file->ok()) {
        refuse(socket, c, 503, tr("cannot store the upload (disk full?)"), c.path);
        return;
    }
    c.request =
        SpooledRequest{head.method, head.path, head.headers, std::move(file), head.declared};
    c.remaining = head.declared;
    c.spooling = true;
    socket->read(head.size);  // Qt never sees this request
    c.timer->start(limits_.idleSeconds * 1000);
    if (head.expectContinue) socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    spoolBody(socket, c);
}

void RequestGate::spoolBody(QTcpSocket* socket, Connection& c) {
    while (c.remaining > 0 && socket->bytesAvailable() > 0) {
        const QByteArray fresh = socket->read(std::min<qint64>(c.remaining, 1 << 20));
        c.unanswered += fresh.size();
        inFlight_ += fresh.size();
        c.remaining -= fresh.size();
        if (!c.request.body->write(fresh.constData(), fresh.size())) {
            c.spooling = false;
            c.request = {};
            refuse(socket, c, 503, tr("cannot store the upload (disk full?)"), c.path);
            return;
        }
    }
    c.timer->start(limits_.idleSeconds * 1000);
    if (c.remaining > 0) return;
    socket->read(socket->bytesAvailable());  // nothing is served after an upload: it closes
    c.spooling = false;
    SpooledRequest request = std::move(c.request);
    c.request = {};
    const QHttpServerResponse response =
        request.body->file().flush()
            ? spooled_(request)
            : QHttpServerResponse(
                  QJsonObject{{"detail", tr("cannot store the upload (disk full?)")}},
                  QHttpServerResponse::StatusCode::ServiceUnavailable);
    request.body.reset();  // removed now unless the handler moved it into place
    answer(socket, c, serialized(response));
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
    answer(socket, c, reply + "\r\n" + body);
    if (refused_) refused_(path, status);
}

void RequestGate::answer(QTcpSocket* socket, Connection& c, const QByteArray& reply) {
    c.closing = true;
    release(c, c.unanswered);
    socket->write(reply);
    // Reading on until the client stops (at most a few seconds) lets it see the reply: closing
    // with its body still arriving would reset the connection and could lose the reply.
    c.timer->start(5000);
}

void RequestGate::release(Connection& c, qint64 bytes) {
    inFlight_ -= bytes;
    c.unanswered -= bytes;
}

}  // namespace msplit::server
