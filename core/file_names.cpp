#include "core/file_names.h"

namespace msplit {

QString safeFileName(const QString& name, int maxLength) {
    QString out;
    out.reserve(name.size());
    for (const QChar c : name) {
        const bool reserved = QStringLiteral("/\\:*?\"<>|").contains(c);
        out += (reserved || c.category() == QChar::Other_Control) ? QChar('_') : c;
    }
    out = out.trimmed().left(maxLength);
    if (out.startsWith('.')) out[0] = '_';
    return out.isEmpty() ? QStringLiteral("_") : out;
}

}  // namespace msplit
