#pragma once
// Whether text a user gave is a web address (http or https, with a host) rather than a file:
// the CLI, the remote client, the server and the YouTube dialog all ask it the same way.
#include <QString>

namespace msplit {

bool isWebAddress(const QString& text);

}  // namespace msplit
