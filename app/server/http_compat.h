#pragma once
// Qt's HTTP server changed its API in 6.8 (Debian 13) from 6.4 (Debian 12): listen() and the
// response's setHeader() are gone, afterRequest() became addAfterRequestHandler() (and 6.6
// renamed makeReadyFuture). These take the form the Qt at hand has; the server and the tests'
// scripted servers use them.
#include <QFuture>
#include <QHostAddress>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QTcpServer>
#include <QtGlobal>
#if QT_VERSION >= QT_VERSION_CHECK(6, 8, 0)
#include <QHttpHeaders>
#endif

namespace msplit::http {

// Serves `server` on address:port (0: any free port) through `tcp` (which it takes); the port, or
// 0 when it cannot listen.
inline quint16 listen(QHttpServer& server, QTcpServer* tcp, const QHostAddress& address,
                      quint16 port = 0) {
    tcp->setParent(&server);
    if (!tcp->listen(address, port)) {
        delete tcp;
        return 0;
    }
    server.bind(tcp);
    return tcp->serverPort();
}

inline quint16 listen(QHttpServer& server, const QHostAddress& address, quint16 port = 0) {
    return listen(server, new QTcpServer, address, port);
}

// A response that is ready now, for a route that answers with a QFuture (the name changed in 6.6).
inline QFuture<QHttpServerResponse> readyResponse(QHttpServerResponse response) {
#if QT_VERSION >= QT_VERSION_CHECK(6, 6, 0)
    return QtFuture::makeReadyValueFuture(std::move(response));
#else
    return QtFuture::makeReadyFuture(std::move(response));
#endif
}

// Sets one header of a response, replacing any of the same name.
inline void setHeader(QHttpServerResponse& response, const QByteArray& name,
                      const QByteArray& value) {
#if QT_VERSION >= QT_VERSION_CHECK(6, 8, 0)
    QHttpHeaders headers = response.headers();
    headers.replaceOrAppend(name, value);
    response.setHeaders(std::move(headers));
#else
    response.setHeader(name, value);
#endif
}

// The headers of a response besides Content-Type. Qt 6.4 looks them up by name only, so `names`
// lists the ones to look for there; 6.8 lists them all.
inline QList<QPair<QByteArray, QByteArray>> responseHeaders(const QHttpServerResponse& response,
                                                            const QList<QByteArray>& names) {
    QList<QPair<QByteArray, QByteArray>> out;
#if QT_VERSION >= QT_VERSION_CHECK(6, 8, 0)
    Q_UNUSED(names);
    for (const auto& [name, value] : response.headers().toListOfPairs())
        if (name.compare("content-type", Qt::CaseInsensitive) != 0) out.append({name, value});
#else
    for (const QByteArray& name : names)
        for (const QByteArray& value : response.headers(name))
            out.append({name, value});
#endif
    return out;
}

// Calls `seen(request)` after each request `server` answered.
template <typename Seen>
void afterEachRequest(QHttpServer& server, Seen seen) {
#if QT_VERSION >= QT_VERSION_CHECK(6, 8, 0)
    server.addAfterRequestHandler(&server, [seen](const QHttpServerRequest& request,
                                                  QHttpServerResponse&) { seen(request); });
#else
    server.afterRequest([seen](QHttpServerResponse&& response, const QHttpServerRequest& request) {
        seen(request);
        return std::move(response);
    });
#endif
}

}  // namespace msplit::http
