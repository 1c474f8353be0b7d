#include "ui/time_format.h"

namespace msplit::ui {

QString formatSeconds(double seconds) {
    if (seconds < 0) return "–";
    const int s = static_cast<int>(seconds + 0.5);
    return s >= 3600 ? QString("%1:%2:%3")
                           .arg(s / 3600)
                           .arg(s / 60 % 60, 2, 10, QChar('0'))
                           .arg(s % 60, 2, 10, QChar('0'))
                     : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

}  // namespace msplit::ui
