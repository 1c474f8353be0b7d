#pragma once
// Names that come from outside (a server's stem names, a model's source names, titles and tags)
// made safe as one file name, so none of them can reach outside the folder it is written into.
#include <QString>

namespace msplit {

// No folder separators, no control or reserved characters (/ \ : * ? " < > |), no leading dot
// ("..", hidden files), at most `maxLength` characters; "_" when nothing is left.
QString safeFileName(const QString& name, int maxLength = 100);

}  // namespace msplit
