#pragma once
// What /separate/youtube may make the server fetch: public http(s) addresses only, unless the
// server was started with --allow-private-urls. Anyone who can post a job could otherwise have the
// server read its own loopback services, the private network or cloud metadata endpoints.
#include <QHostAddress>
#include <QString>

namespace msplit::server {

// Whether an address is on the public internet (not loopback, private, link-local, CGNAT,
// multicast, unspecified or reserved; IPv4-mapped IPv6 judged as its IPv4).
bool isPublicAddress(const QHostAddress& address);

// Why `url` is refused before any lookup (a scheme other than http(s), an address or a name that
// is never public), or empty when its host must still be resolved and checked.
QString refusedUrl(const QString& url);

}  // namespace msplit::server
