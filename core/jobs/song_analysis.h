#pragma once
// What the practice tools know of a result: its beat grid and tempo (aubio, on all stems summed)
// and its key and chords (on the stems without drums, whose hits would smear every pitch class).
// Made once per result and kept beside it, so opening a song costs nothing.
#include <QJsonObject>
#include <QString>

#include <functional>
#include <optional>

#include "core/jobs/stem_mix.h"
#include "core/practice/beats.h"
#include "core/practice/harmony.h"

namespace msplit {

struct SongAnalysis {
    BeatGrid beats;
    Key key;
    std::vector<ChordSpan> chords;

    QJsonObject toJson() const;
    // Nothing for a foreign or damaged record.
    static std::optional<SongAnalysis> fromJson(const QJsonObject& o);
    // The chord sounding at `seconds` (None outside the song).
    Chord chordAt(double seconds) const;
};

// Reads the stems once. `progress` gets the fraction done and returns false to cancel (Error
// Cancelled). Throws Error.
SongAnalysis analyzeStems(const StemSet& stems, const std::function<bool(double)>& progress = {});

// Where a result folder keeps it.
QString analysisFile(const QString& folder);
// Written atomically. Throws Error (Io).
void saveAnalysis(const QString& file, const SongAnalysis& analysis);
std::optional<SongAnalysis> loadAnalysis(const QString& file);

}  // namespace msplit
