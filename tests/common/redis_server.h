#pragma once
// A real redis-server (Debian's) on a free port of 127.0.0.1 for one test, with no persistence and
// its files in a temporary folder; stopped with the object.
#include <QDeadlineTimer>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "tests/common/file_server.h"

namespace msplit::test {

class RedisServer {
public:
    // `port` 0: a free one. `extra`: more redis-server options (e.g. --requirepass).
    bool start(int port = 0, const QStringList& extra = {}) {
        port_ = port ? port : closedPort();
        QStringList args = {"--port", QString::number(port_), "--bind", "127.0.0.1", "--save",
                            "",       "--appendonly",         "no",     "--dir",     dir_.path()};
        process_.start(QStandardPaths::findExecutable("redis-server", {"/usr/bin", "/usr/sbin"}),
                       args + extra);
        if (!process_.waitForStarted(10000)) return false;
        QDeadlineTimer deadline(10000);
        while (!deadline.hasExpired()) {  // ready once it answers
            QTcpSocket s;
            s.connectToHost("127.0.0.1", quint16(port_));
            if (s.waitForConnected(200)) {
                s.write("PING\r\n");
                if (s.waitForReadyRead(1000) && !s.readAll().isEmpty()) return true;
            }
            QTest::qWait(50);
        }
        return false;
    }
    QString url() const { return QString("redis://127.0.0.1:%1").arg(port_); }
    int port() const { return port_; }
    void stop() {
        process_.terminate();
        if (!process_.waitForFinished(5000)) process_.kill();
        process_.waitForFinished(5000);
    }
    ~RedisServer() {
        if (process_.state() == QProcess::Running) stop();
    }

private:
    QTemporaryDir dir_;
    QProcess process_;
    int port_ = 0;
};

}  // namespace msplit::test
