#include "core/web_address.h"

#include <QUrl>

namespace msplit {

bool isWebAddress(const QString& text) {
    const QUrl u(text);
    return u.isValid() && (u.scheme() == "http" || u.scheme() == "https") && !u.host().isEmpty();
}

}  // namespace msplit
