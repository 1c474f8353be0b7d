#include "app/server/mix_request.h"

#include "core/error.h"

namespace msplit::server {
namespace {

double number(const QJsonObject& body, const char* field, double fallback) {
    const QJsonValue v = body[field];
    if (v.isUndefined() || v.isNull()) return fallback;
    if (!v.isDouble()) throw Error(ErrorKind::InvalidInput, field, "must be a number");
    return v.toDouble();
}

}  // namespace

MixSettings mixSettings(const QJsonObject& body, const QStringList& stems) {
    MixSettings mix;
    const QJsonValue given = body["stems"];
    if (!given.isUndefined() && !given.isNull() && !given.isObject())
        throw Error(ErrorKind::InvalidInput, "stems", "must be an object {stem: volume}");
    const QJsonObject volumes = given.toObject();
    for (auto it = volumes.begin(); it != volumes.end(); ++it) {
        if (!it.value().isDouble())
            throw Error(ErrorKind::InvalidInput, "stems." + it.key().toStdString(),
                        "the volume must be a number");
        mix.levels[it.key()].gain = it.value().toDouble();
    }
    if (!volumes.isEmpty())
        for (const QString& stem : stems)
            if (!volumes.contains(stem)) mix.levels[stem].mute = true;
    mix.tempo = number(body, "tempo", 1);
    mix.semitones = number(body, "semitones", 0);
    return mix;
}

}  // namespace msplit::server
