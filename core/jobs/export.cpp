#include "core/jobs/export.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/audio/decoder.h"
#include "core/error.h"
#include "core/jobs/separation.h"
#include "core/practice/stretcher.h"

namespace msplit {
namespace {

QStringList outputStems(const JobRecord& r, const ExportOptions& o) {
    if (o.twoStems.isEmpty()) return o.currentMix.empty() ? o.stems : o.stems + QStringList{"mix"};
    if (!r.stems.contains(o.twoStems))
        throw Error(ErrorKind::InvalidInput, o.twoStems.toStdString(),
                    "this result has no such stem");
    return {o.twoStems, "no_" + o.twoStems};
}

// One file of a sum, with its gain on each side.
struct Part {
    QString file;
    double left = 1, right = 1;
};

// The stems at the model's level (the library scaled every stem by `gain` when it wrote them).
std::vector<Part> stemParts(const JobRecord& r, const QStringList& stems) {
    std::vector<Part> parts;
    for (const QString& stem : stems)
        parts.push_back({r.stemFile(stem), 1.0 / r.gain, 1.0 / r.gain});
    return parts;
}

// The player's lanes as heard: its first stem leads (the mix has the stems' length), silent if
// it is not heard.
std::vector<Part> mixParts(const JobRecord& r, const std::vector<MixLane>& lanes) {
    std::vector<Part> parts;
    for (const MixLane& lane : lanes) {
        const bool original = lane.stem.isEmpty();
        if (!original && !r.stems.contains(lane.stem))
            throw Error(ErrorKind::InvalidInput, lane.stem.toStdString(),
                        "this result has no such stem");
        const double scale = original ? 1.0 : 1.0 / r.gain;
        Part part{original ? r.source : r.stemFile(lane.stem), lane.left * scale,
                  lane.right * scale};
        if (!original && (parts.empty() || parts.front().file == r.source))
            parts.insert(parts.begin(), part);
        else if (part.left != 0 || part.right != 0)
            parts.push_back(part);
    }
    if (parts.empty() || parts.front().file == r.source)
        parts.insert(parts.begin(), {r.stemFile(r.stems.value(0)), 0, 0});
    return parts;
}

// Reads files block by block, each with its gains, summed: only a block of each is in memory at
// a time.
class StemReader {
public:
    explicit StemReader(std::vector<Part> parts) : parts_(std::move(parts)) {
        for (const Part& p : parts_)
            readers_.push_back(std::make_unique<AudioReader>(p.file.toStdString()));
    }
    int channels() const { return readers_.front()->channels(); }
    int64_t frames() const { return readers_.front()->lengthEstimate(); }  // of the first file
    // Up to `max` frames into `planar`; 0 at the end (of the first file; the others are cut to
    // it or padded with silence, as the whole-buffer export did).
    int64_t read(float* planar, int64_t max) {
        const int C = channels();
        const int64_t n = readers_.front()->read(planar, max);
        scale(planar, parts_.front(), n);
        block_.resize(size_t(C * max));
        for (size_t k = 1; k < readers_.size() && n > 0; ++k) {
            int64_t got = 0;
            std::fill(block_.begin(), block_.end(), 0.0f);
            while (got < n) {  // exactly n frames of each, in the first file's layout
                part_.resize(size_t(C * (n - got)));
                const int64_t m = readers_[k]->read(part_.data(), n - got);
                if (m == 0) break;
                for (int c = 0; c < C; ++c)
                    std::copy_n(part_.data() + c * m, m, block_.data() + c * n + got);
                got += m;
            }
            scale(block_.data(), parts_[k], n);
            for (int64_t i = 0; i < C * n; ++i)
                planar[i] += block_[size_t(i)];
        }
        return n;
    }

private:
    void scale(float* samples, const Part& p, int64_t n) const {
        for (int c = 0; c < channels(); ++c) {
            const double g = c == 0 ? p.left : p.right;
            if (g != 1.0)
                for (int64_t i = 0; i < n; ++i)
                    samples[c * n + i] = static_cast<float>(samples[c * n + i] * g);
        }
    }

    std::vector<Part> parts_;
    std::vector<std::unique_ptr<AudioReader>> readers_;
    std::vector<float> block_, part_;  // reused from block to block
};

}  // namespace

QStringList exportTargets(const JobRecord& r, const ExportOptions& o) {
    QStringList out;
    // Named after the song's file, as the demucs CLI names its outputs; after its title when
    // there is no file (the title is one name, dots and slashes included).
    const bool noFile = QFileInfo(r.source).fileName().isEmpty();
    const std::string dest = o.destination.toStdString(), tmpl = o.nameTemplate.toStdString(),
                      ext = extensionFor(o.encode.format);
    for (const QString& stem : outputStems(r, o))
        out << QString::fromStdString(
            noFile ? stemPathForTrack(dest, tmpl, r.title, {}, stem.toStdString(), ext)
                   : stemPath(dest, tmpl, r.source.toStdString(), stem.toStdString(), ext));
    return out;
}

QStringList exportStems(const JobRecord& r, const ExportOptions& o,
                        const std::function<bool(double)>& progress) {
    const QStringList stems = outputStems(r, o);
    const QStringList targets = exportTargets(r, o);
    if (stems.isEmpty()) throw Error(ErrorKind::InvalidInput, "", "no stems chosen");
    for (int i = 0; i < stems.size(); ++i) {
        QDir().mkpath(QFileInfo(targets[i]).absolutePath());
        std::vector<Part> parts;
        if (stems[i] == "mix" && !o.currentMix.empty()) {
            parts = mixParts(r, o.currentMix);
        } else {
            QStringList sources{stems[i]};
            if (stems[i].startsWith("no_") && !o.twoStems.isEmpty()) {
                sources = r.stems;
                sources.removeAll(o.twoStems);
            }
            parts = stemParts(r, sources);
        }
        StemReader reader(std::move(parts));
        PlanarRead read = [&](float* planar, int64_t max) { return reader.read(planar, max); };
        const bool stretch =
            stems[i] == "mix" && !o.currentMix.empty() && (o.mixTempo != 1 || o.mixSemitones != 0);
        if (stretch)  // as the player plays it: the sum stretched once
            read = stretched(read, defaults::kSampleRate, reader.channels(), o.mixTempo,
                             o.mixSemitones, reader.frames());
        encodeStream(targets[i].toStdString(), defaults::kSampleRate, reader.channels(), o.encode,
                     read);
        if (progress && !progress(double(i + 1) / double(stems.size())))
            throw Error(ErrorKind::Cancelled, "", "export cancelled");
    }
    return targets;
}

}  // namespace msplit
