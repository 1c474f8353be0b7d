#pragma once
// POST /mix: the hosted service's JSON {session_id, stems: {name: volume}}, with this server's
// optional tempo and semitones, into the settings of a mix of that session's stems.
#include <QJsonObject>
#include <QStringList>

#include "core/jobs/stem_mix.h"

namespace msplit::server {

// Stems named in "stems" play at their volume (linear, 0 to 16); the others are left out. No
// "stems" (or an empty object): all of them at 1. Throws Error (InvalidInput) naming the field.
MixSettings mixSettings(const QJsonObject& body, const QStringList& stems);

}  // namespace msplit::server
