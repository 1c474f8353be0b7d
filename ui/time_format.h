#pragma once
// Durations as the app shows them: "3:05", "1:02:03"; "–" when unknown (negative).
#include <QString>

namespace msplit::ui {

QString formatSeconds(double seconds);

}  // namespace msplit::ui
