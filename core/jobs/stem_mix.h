#pragma once
// A folder of stems mixed into one file as the player plays them: gain, pan, mute and solo per
// stem, a time range, then tempo and pitch on the mix (so stems cannot drift apart). For
// `music-split-cli mix` and the server's POST /mix.
#include <QMap>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <functional>

#include "core/audio/encoder.h"

namespace msplit {

struct StemSet {
    QStringList names, files;
    double gain = 1;  // the stems were multiplied by this when written (library results)
    int sampleRate = 0;
    int64_t frames = 0;  // of the shortest stem
};

// The stems of a folder: a library or server result (its job.json), or the audio files that
// `separate` writes (one per stem; hidden files and "mix" are not stems). Throws Error (NotFound:
// no stems; InvalidInput: stems of different sample rates or lengths).
StemSet stemsInFolder(const QString& folder);

struct StemLevel {
    double gain = 1;  // linear
    double pan = 0;   // -1 left .. 1 right, as the player's balance
    bool mute = false, solo = false;
};

struct MixSettings {
    QMap<QString, StemLevel> levels;  // by stem name; a stem not named plays at gain 1, centred
    double tempo = 1, semitones = 0;
    double from = 0, to = -1;  // seconds of the song; to < 0: its end
};

// Throws Error (InvalidInput) naming the first thing wrong: an unknown stem, a range outside the
// song or empty, tempo or pitch out of range, nothing audible.
void checkMix(const StemSet& stems, const MixSettings& mix);
// Writes the mix into `output` (stereo, at the stems' rate), atomically. `progress` gets the
// fraction done and returns false to cancel. Throws Error.
void mixStems(const StemSet& stems, const MixSettings& mix, const QString& output,
              const EncodeOptions& encode, const std::function<bool(double)>& progress = {});

}  // namespace msplit
