#pragma once
// A small HTTP/1.1 file server on 127.0.0.1 for download tests: serves a folder, honours Range, and
// can misbehave on purpose (drop the connection part way, damage the bytes). Runs on the test's
// event loop; every request is recorded.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QPointer>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>

namespace msplit::test {

class FileServer : public QObject {
public:
    struct Request {
        QString path;
        QByteArray range;  // the Range header, empty when none
    };

    explicit FileServer(QString root) : root_(std::move(root)) {
        server_.listen(QHostAddress::LocalHost, 0);
        connect(&server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = server_.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onRequest(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }

    QString baseUrl() const { return QString("http://127.0.0.1:%1/").arg(server_.serverPort()); }
    const QList<Request>& requests() const { return requests_; }

    int dropAfterBytes = -1;  // > 0: the next `drops` responses stop after this many body bytes
    int drops = 0;
    bool damage = false;       // flips one byte in the middle of every file
    bool ignoreRange = false;  // answer 200 with the whole file, as some servers do

private:
    void onRequest(QTcpSocket* s) {
        QByteArray& buf = pending_[s];
        buf += s->readAll();
        if (!buf.contains("\r\n\r\n")) return;
        const QList<QByteArray> lines = buf.left(buf.indexOf("\r\n\r\n")).split('\n');
        pending_.remove(s);
        const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
        Request req{QString::fromUtf8(first.value(1)), {}};
        for (const QByteArray& l : lines)
            if (l.toLower().startsWith("range:")) req.range = l.mid(6).trimmed();
        requests_ << req;

        QFile f(QDir(root_).filePath(req.path.mid(1)));
        if (req.path.contains("..") || !f.open(QIODevice::ReadOnly)) {
            s->write(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot "
                "found");
            s->disconnectFromHost();
            return;
        }
        QByteArray body = f.readAll();
        if (damage) body[body.size() / 2] = char(~body[body.size() / 2]);
        qint64 from = 0;
        static const QRegularExpression re("bytes=(\\d+)-");
        const auto m = re.match(QString::fromLatin1(req.range));
        QByteArray head;
        if (m.hasMatch() && !ignoreRange) {
            from = m.captured(1).toLongLong();
            if (from >= body.size()) {
                s->write(
                    "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: "
                    "close\r\n\r\n");
                s->disconnectFromHost();
                return;
            }
            head = QString("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %1-%2/%3\r\n")
                       .arg(from)
                       .arg(body.size() - 1)
                       .arg(body.size())
                       .toLatin1();
        } else {
            head = "HTTP/1.1 200 OK\r\n";
        }
        body = body.mid(from);
        const QString ext = QFileInfo(req.path).suffix();
        const QByteArray type = ext == "mp3"   ? "audio/mpeg"
                                : ext == "wav" ? "audio/wav"
                                               : "application/octet-stream";
        head += "Content-Type: " + type + "\r\nContent-Length: " + QByteArray::number(body.size()) +
                "\r\nConnection: close\r\n\r\n";
        s->write(head);
        if (dropAfterBytes > 0 && drops > 0) {
            --drops;
            s->write(body.left(dropAfterBytes));
            s->disconnectFromHost();  // the connection ends mid-file
            return;
        }
        s->write(body);
        s->disconnectFromHost();
    }

    QString root_;
    QTcpServer server_;
    QList<Request> requests_;
    QHash<QTcpSocket*, QByteArray> pending_;
};

// A port on 127.0.0.1 with nothing listening (taken and released): connections are refused.
inline int closedPort() {
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

}  // namespace msplit::test
