#include "core/jobs/export.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/audio/decoder.h"
#include "core/audio/float_spool.h"
#include "core/error.h"
#include "core/jobs/separation.h"

namespace msplit {
namespace {

QStringList outputStems(const JobRecord& r, const ExportOptions& o) {
    if (o.twoStems.isEmpty())
        return o.currentMix.samples.empty() ? o.stems : o.stems + QStringList{"mix"};
    if (!r.stems.contains(o.twoStems))
        throw Error(ErrorKind::InvalidInput, o.twoStems.toStdString(),
                    "this result has no such stem");
    return {o.twoStems, "no_" + o.twoStems};
}

// Reads a result's stems block by block, at the model's level (the library's gain undone),
// summed when there are several (no_STEM): only a block of each is in memory at a time.
class StemReader {
public:
    StemReader(const JobRecord& r, const QStringList& stems) : gain_(r.gain) {
        for (const QString& stem : stems)
            readers_.push_back(std::make_unique<AudioReader>(r.stemFile(stem).toStdString()));
    }
    int channels() const { return readers_.front()->channels(); }
    // Up to `max` frames into `planar`; 0 at the end (of the first stem; the others are cut to
    // it or padded with silence, as the whole-buffer export did).
    int64_t read(float* planar, int64_t max) {
        const int C = channels();
        const int64_t n = readers_.front()->read(planar, max);
        toModelLevel(planar, C * n);
        block_.resize(size_t(C * max));
        for (size_t k = 1; k < readers_.size() && n > 0; ++k) {
            int64_t got = 0;
            std::fill(block_.begin(), block_.end(), 0.0f);
            while (got < n) {  // exactly n frames of each, in the first stem's layout
                part_.resize(size_t(C * (n - got)));
                const int64_t m = readers_[k]->read(part_.data(), n - got);
                if (m == 0) break;
                for (int c = 0; c < C; ++c)
                    std::copy_n(part_.data() + c * m, m, block_.data() + c * n + got);
                got += m;
            }
            toModelLevel(block_.data(), C * n);
            for (int64_t i = 0; i < C * n; ++i)
                planar[i] += block_[size_t(i)];
        }
        return n;
    }

private:
    void toModelLevel(float* samples, int64_t count) const {
        if (gain_ != 1.0)  // the library scaled every stem by `gain` when it wrote them
            for (int64_t i = 0; i < count; ++i)
                samples[i] = static_cast<float>(samples[i] / gain_);
    }

    double gain_;
    std::vector<std::unique_ptr<AudioReader>> readers_;
    std::vector<float> block_, part_;  // reused from block to block
};

// Writes one stem from its reader: straight through, or by way of a spool when rescaling needs
// the whole stem's peak (as encodeAudio: divided by max(1.01 x peak, 1)).
void writeStem(StemReader& in, const std::string& target, int rate, const EncodeOptions& encode) {
    const int C = in.channels();
    constexpr int64_t kBlock = 1 << 16;
    std::vector<float> block(size_t(C * kBlock));
    if (encode.clip != ClipMode::Rescale) {
        AudioWriter writer(target, rate, C, encode);
        while (const int64_t n = in.read(block.data(), kBlock))
            writer.write(block.data(), n);
        writer.commit();
        return;
    }
    const std::string folder =
        QFileInfo(QString::fromStdString(target)).absolutePath().toStdString();
    FloatSpool spool(folder, C);
    while (const int64_t n = in.read(block.data(), kBlock))
        spool.append(block.data(), n);
    encodeSpool(target, rate, spool, encode);
}

}  // namespace

QStringList exportTargets(const JobRecord& r, const ExportOptions& o) {
    QStringList out;
    const std::string track = r.source.isEmpty() ? r.title.toStdString() : r.source.toStdString();
    for (const QString& stem : outputStems(r, o))
        out << QString::fromStdString(stemPath(o.destination.toStdString(),
                                               o.nameTemplate.toStdString(), track,
                                               stem.toStdString(), extensionFor(o.encode.format)));
    return out;
}

QStringList exportStems(const JobRecord& r, const ExportOptions& o,
                        const std::function<bool(double)>& progress) {
    const QStringList stems = outputStems(r, o);
    const QStringList targets = exportTargets(r, o);
    if (stems.isEmpty()) throw Error(ErrorKind::InvalidInput, "", "no stems chosen");
    for (int i = 0; i < stems.size(); ++i) {
        QDir().mkpath(QFileInfo(targets[i]).absolutePath());
        if (stems[i] == "mix" && !o.currentMix.samples.empty()) {
            encodeAudio(targets[i].toStdString(), o.currentMix, o.encode);
        } else {
            QStringList sources{stems[i]};
            if (stems[i].startsWith("no_") && !o.twoStems.isEmpty()) {
                sources = r.stems;
                sources.removeAll(o.twoStems);
            }
            StemReader reader(r, sources);
            writeStem(reader, targets[i].toStdString(), defaults::kSampleRate, o.encode);
        }
        if (progress && !progress(double(i + 1) / double(stems.size())))
            throw Error(ErrorKind::Cancelled, "", "export cancelled");
    }
    return targets;
}

}  // namespace msplit
