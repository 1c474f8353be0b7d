#include "core/jobs/stem_mix.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/audio/decoder.h"
#include "core/error.h"
#include "core/jobs/library.h"
#include "core/practice/stretcher.h"

namespace msplit {
namespace {

// Files `separate` writes, and what people put beside them.
const QStringList kAudioSuffixes{"wav", "flac", "mp3", "ogg", "opus", "m4a", "aac", "aif", "aiff"};
// Stems may differ by an MP3 encoder's padding, not more.
constexpr int64_t kLengthSlack = 2048;

std::string text(const QString& s) {
    return s.toStdString();
}
std::string seconds(double s) {
    return QString::number(s, 'g', 6).toStdString() + " s";
}

// The mix's frames from `from`: each heard stem read through its own reader, scaled, summed.
class StemSum {
public:
    StemSum(const StemSet& set, const MixSettings& mix, int64_t from, int64_t to)
        : pos_(from), to_(to) {
        bool anySolo = false;
        for (const QString& name : set.names)
            anySolo = anySolo || mix.levels.value(name).solo;
        for (qsizetype i = 0; i < set.names.size(); ++i) {
            const StemLevel level = mix.levels.value(set.names[i]);
            const bool heard = !level.mute && (!anySolo || level.solo);
            if (!heard || level.gain == 0) continue;
            // The player's balance: panning one way lowers the other side only.
            const double g = level.gain / set.gain;
            gains_.push_back(
                {g * std::min(1.0, 1.0 - level.pan), g * std::min(1.0, 1.0 + level.pan)});
            readers_.push_back(
                std::make_unique<AudioReader>(text(set.files[i]), set.sampleRate, 2));
            if (from > 0) readers_.back()->seek(from);
        }
    }
    int64_t position() const { return pos_; }

    // Up to `max` frames, planar with the count as the stride; 0 at the end.
    int64_t read(float* planar, int64_t max) {
        const int64_t want = std::min(max, to_ - pos_);
        if (want <= 0) return 0;
        std::fill(planar, planar + 2 * want, 0.0f);
        int64_t longest = 0;
        for (size_t k = 0; k < readers_.size(); ++k) {
            int64_t got = 0;
            while (got < want) {
                part_.resize(size_t(2 * (want - got)));
                const int64_t n = readers_[k]->read(part_.data(), want - got);
                if (n == 0) break;
                for (int c = 0; c < 2; ++c) {
                    const float g = float(gains_[k][size_t(c)]);
                    for (int64_t i = 0; i < n; ++i)
                        planar[c * want + got + i] += g * part_[size_t(c * n + i)];
                }
                got += n;
            }
            longest = std::max(longest, got);
        }
        if (longest < want) {  // every stem ended early: close the gap between the channels
            std::copy_n(planar + want, longest, planar + longest);
            to_ = pos_ + longest;
        }
        pos_ += longest;
        return longest;
    }

private:
    int64_t pos_, to_;
    std::vector<std::unique_ptr<AudioReader>> readers_;
    std::vector<std::array<double, 2>> gains_;
    std::vector<float> part_;
};

}  // namespace

StemSet stemsInFolder(const QString& folder) {
    StemSet set;
    const QDir dir(folder);
    if (!dir.exists()) throw Error(ErrorKind::NotFound, text(folder), "no such folder");
    QFile json(dir.filePath("job.json"));
    if (json.open(QIODevice::ReadOnly)) {  // a library or server result
        const QJsonDocument doc = QJsonDocument::fromJson(json.readAll());
        if (!doc.isObject())
            throw Error(ErrorKind::InvalidInput, text(json.fileName()), "not a result's record");
        const JobRecord r = JobRecord::fromJson(doc.object(), dir.absolutePath());
        for (const QString& stem : r.stems) {
            set.names << stem;
            set.files << r.stemFile(stem);
        }
        if (r.gain > 0 && std::isfinite(r.gain)) set.gain = r.gain;
    } else {  // what `separate` wrote: one audio file per stem
        for (const QFileInfo& f : dir.entryInfoList(QDir::Files, QDir::Name)) {
            if (!kAudioSuffixes.contains(f.suffix().toLower()) || f.completeBaseName() == "mix")
                continue;
            set.names << f.completeBaseName();
            set.files << f.absoluteFilePath();
        }
    }
    if (set.names.isEmpty())
        throw Error(ErrorKind::NotFound, text(folder), "no stems in this folder");
    int64_t shortest = INT64_MAX, longest = 0;
    for (const QString& file : set.files) {
        if (!QFileInfo::exists(file))
            throw Error(ErrorKind::NotFound, text(file), "stem file missing");
        const AudioInfo info = probeAudio(text(file));
        if (set.sampleRate == 0) set.sampleRate = info.sampleRate;
        if (info.sampleRate != set.sampleRate)
            throw Error(ErrorKind::InvalidInput, text(file),
                        "stems of different sample rates (" + std::to_string(info.sampleRate) +
                            " Hz, the others " + std::to_string(set.sampleRate) + " Hz)");
        AudioReader reader(text(file), set.sampleRate, 2);
        int64_t frames = reader.lengthEstimate();
        if (frames <= 0) frames = int64_t(std::llround(info.durationSeconds * set.sampleRate));
        shortest = std::min(shortest, frames);
        longest = std::max(longest, frames);
    }
    if (longest - shortest > kLengthSlack)
        throw Error(ErrorKind::InvalidInput, text(folder),
                    "stems of different lengths (" + std::to_string(shortest) + " to " +
                        std::to_string(longest) + " frames): not one song's stems");
    if (shortest <= 0) throw Error(ErrorKind::NoAudio, text(folder), "the stems are empty");
    set.frames = shortest;
    return set;
}

void checkMix(const StemSet& set, const MixSettings& mix) {
    for (auto it = mix.levels.begin(); it != mix.levels.end(); ++it) {
        if (!set.names.contains(it.key()))
            throw Error(ErrorKind::InvalidInput, text(it.key()),
                        "no such stem (the stems are " + text(set.names.join(", ")) + ")");
        const StemLevel& l = it.value();
        if (!std::isfinite(l.gain) || l.gain < 0 || l.gain > 16)
            throw Error(ErrorKind::InvalidInput, text(it.key()),
                        "gain must be from 0 to 16 (+24 dB)");
        if (!(std::abs(l.pan) <= 1))
            throw Error(ErrorKind::InvalidInput, text(it.key()), "pan must be from -1 to 1");
    }
    Stretcher::check(mix.tempo, mix.semitones);
    const double length = double(set.frames) / set.sampleRate;
    const double to = mix.to < 0 ? length : mix.to;
    if (!(mix.from >= 0 && mix.from < length) || !(to > mix.from) || !(to <= length + 1e-6))
        throw Error(ErrorKind::InvalidInput, seconds(mix.from) + " to " + seconds(to),
                    "the range must be within the song (" + seconds(length) + ")");
    bool anySolo = false, anyHeard = false;
    for (const QString& name : set.names)
        anySolo = anySolo || mix.levels.value(name).solo;
    for (const QString& name : set.names) {
        const StemLevel l = mix.levels.value(name);
        anyHeard = anyHeard || (!l.mute && (!anySolo || l.solo) && l.gain > 0);
    }
    if (!anyHeard) throw Error(ErrorKind::InvalidInput, "", "nothing to hear: every stem is muted");
}

void mixStems(const StemSet& set, const MixSettings& mix, const QString& output,
              const EncodeOptions& encode, const std::function<bool(double)>& progress) {
    checkMix(set, mix);
    const int64_t from = std::llround(mix.from * set.sampleRate);
    const int64_t to = mix.to < 0
                           ? set.frames
                           : std::min(set.frames, int64_t(std::llround(mix.to * set.sampleRate)));
    auto sum = std::make_shared<StemSum>(set, mix, from, to);
    PlanarRead read = [sum, from, to, progress](float* planar, int64_t max) {
        if (progress && !progress(double(sum->position() - from) / double(to - from)))
            throw Error(ErrorKind::Cancelled, "", "mix cancelled");
        return sum->read(planar, max);
    };
    if (mix.tempo != 1 || mix.semitones != 0)
        read = stretched(read, set.sampleRate, 2, mix.tempo, mix.semitones, to - from);
    QDir().mkpath(QFileInfo(output).absolutePath());
    encodeStream(text(output), set.sampleRate, 2, encode, read);
    if (progress) progress(1.0);
}

}  // namespace msplit
