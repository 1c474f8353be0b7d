#include "core/jobs/song_analysis.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <memory>

#include "core/audio/decoder.h"
#include "core/error.h"

namespace msplit {
namespace {

// A version in the file, so a later, better analysis replaces an older one.
constexpr int kVersion = 1;

}  // namespace

QJsonObject SongAnalysis::toJson() const {
    QJsonArray beatTimes, chordList;
    for (double b : beats.beats)
        beatTimes.append(std::round(b * 10000) / 10000);
    for (const ChordSpan& c : chords)
        chordList.append(QJsonObject{{"start", c.start},
                                     {"end", c.end},
                                     {"root", c.chord.root},
                                     {"quality", int(c.chord.quality)},
                                     {"name", QString::fromStdString(c.chord.name())}});
    return {{"version", kVersion},
            {"bpm", beats.bpm},
            {"beats", beatTimes},
            {"key", QString::fromStdString(key.name())},
            {"key_tonic", key.tonic},
            {"key_minor", key.minor},
            {"key_confidence", key.confidence},
            {"chords", chordList}};
}

std::optional<SongAnalysis> SongAnalysis::fromJson(const QJsonObject& o) {
    if (o["version"].toInt() != kVersion) return std::nullopt;
    SongAnalysis a;
    a.beats.bpm = o["bpm"].toDouble();
    for (const QJsonValue& v : o["beats"].toArray()) {
        if (!v.isDouble()) return std::nullopt;
        a.beats.beats.push_back(v.toDouble());
    }
    if (!std::is_sorted(a.beats.beats.begin(), a.beats.beats.end())) return std::nullopt;
    a.key.tonic = o["key_tonic"].toInt(-1);
    a.key.minor = o["key_minor"].toBool();
    a.key.confidence = o["key_confidence"].toDouble();
    if (a.key.tonic < -1 || a.key.tonic > 11) return std::nullopt;
    for (const QJsonValue& v : o["chords"].toArray()) {
        const QJsonObject c = v.toObject();
        const int root = c["root"].toInt(-1), quality = c["quality"].toInt(-1);
        if (root < -1 || root > 11 || quality < 0 || quality > int(ChordQuality::None))
            return std::nullopt;
        a.chords.push_back(
            {c["start"].toDouble(), c["end"].toDouble(), {root, ChordQuality(quality)}});
    }
    return a;
}

Chord SongAnalysis::chordAt(double seconds) const {
    for (const ChordSpan& c : chords)
        if (seconds >= c.start && seconds < c.end) return c.chord;
    return {};
}

SongAnalysis analyzeStems(const StemSet& stems, const std::function<bool(double)>& progress) {
    std::vector<std::unique_ptr<AudioReader>> readers;
    std::vector<bool> harmonic;  // read for the key and chords too
    for (qsizetype i = 0; i < stems.names.size(); ++i) {
        readers.push_back(std::make_unique<AudioReader>(stems.files[i].toStdString(), 44100, 2));
        harmonic.push_back(stems.names[i] != "drums" || stems.names.size() == 1);
    }
    BeatTracker beats(44100);
    ChromaTracker chroma(44100);
    constexpr int64_t kBlock = 1 << 15;
    std::vector<float> planar(2 * kBlock), all(kBlock), pitched(kBlock);
    for (int64_t done = 0;; done += kBlock) {
        std::fill(all.begin(), all.end(), 0.0f);
        std::fill(pitched.begin(), pitched.end(), 0.0f);
        int64_t longest = 0;
        for (size_t k = 0; k < readers.size(); ++k) {
            int64_t got = 0;
            while (got < kBlock) {
                const int64_t n = readers[k]->read(planar.data(), kBlock - got);
                if (n == 0) break;
                for (int64_t i = 0; i < n; ++i) {
                    const float mono = 0.5f * (planar[size_t(i)] + planar[size_t(n + i)]);
                    all[size_t(got + i)] += mono;
                    if (harmonic[k]) pitched[size_t(got + i)] += mono;
                }
                got += n;
            }
            longest = std::max(longest, got);
        }
        if (longest == 0) break;
        beats.feed(all.data(), longest);
        chroma.feed(pitched.data(), longest);
        if (progress && stems.frames > 0 &&
            !progress(std::min(1.0, double(done + longest) / double(stems.frames))))
            throw Error(ErrorKind::Cancelled, "", "analysis cancelled");
    }
    SongAnalysis a;
    a.beats = beats.finish();
    a.key = estimateKey(chroma.frames());
    a.chords = estimateChords(chroma.frames(), chroma.hopSeconds(), chroma.offsetSeconds());
    return a;
}

QString analysisFile(const QString& folder) {
    return folder + "/.waveform/analysis.json";
}

void saveAnalysis(const QString& file, const SongAnalysis& analysis) {
    QDir().mkpath(QFileInfo(file).absolutePath());
    QSaveFile f(file);
    if (!f.open(QIODevice::WriteOnly) ||
        f.write(QJsonDocument(analysis.toJson()).toJson(QJsonDocument::Compact)) < 0 || !f.commit())
        throw Error(ErrorKind::Io, file.toStdString(), "cannot write the analysis");
}

std::optional<SongAnalysis> loadAnalysis(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly) || f.size() > (64 << 20)) return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll());
    return doc.isObject() ? SongAnalysis::fromJson(doc.object()) : std::nullopt;
}

}  // namespace msplit
