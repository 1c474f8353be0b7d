#include "app/server/url_guard.h"

#include <QObject>
#include <QUrl>

#include <utility>

namespace msplit::server {

bool isPublicAddress(const QHostAddress& address) {
    QHostAddress a = address;
    bool mapped = false;
    const quint32 v4 = a.toIPv4Address(&mapped);
    if (mapped) a = QHostAddress(v4);  // ::ffff:10.0.0.1 is 10.0.0.1
    if (a.isNull() || a.isLoopback() || a.isLinkLocal() || a.isMulticast() || a.isBroadcast() ||
        a.isUniqueLocalUnicast() || a.isSiteLocal() || a == QHostAddress::AnyIPv4 ||
        a == QHostAddress::AnyIPv6)
        return false;
    static const std::pair<const char*, int> reserved[] = {
        {"0.0.0.0", 8},      {"10.0.0.0", 8},    {"100.64.0.0", 10}, {"127.0.0.0", 8},
        {"169.254.0.0", 16}, {"172.16.0.0", 12}, {"192.0.0.0", 24},  {"192.168.0.0", 16},
        {"198.18.0.0", 15},  {"240.0.0.0", 4},   {"64:ff9b::", 96},  {"2001:db8::", 32},
        {"fc00::", 7},       {"fe80::", 10}};
    for (const auto& [net, bits] : reserved)
        if (a.isInSubnet(QHostAddress(QString::fromLatin1(net)), bits)) return false;
    return true;
}

QString refusedUrl(const QString& text) {
    const QUrl url(text);
    const QString scheme = url.scheme().toLower();
    if (scheme != "http" && scheme != "https")
        return QObject::tr("only http and https addresses can be fetched");
    const QString host = url.host().toLower();
    const QHostAddress literal(host);
    if (!literal.isNull())
        return isPublicAddress(literal) ? QString()
                                        : QObject::tr(
                                              "%1 is not a public address (start the server with "
                                              "--allow-private-urls to fetch from it)")
                                              .arg(host);
    if (host == "localhost" || host.endsWith(".localhost") || host.endsWith(".local") ||
        host.endsWith(".internal") || !host.contains('.'))
        return QObject::tr(
                   "%1 is not a public host name (start the server with "
                   "--allow-private-urls to fetch from it)")
            .arg(host);
    return {};
}

}  // namespace msplit::server
