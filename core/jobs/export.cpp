#include "core/jobs/export.h"

#include <QDir>
#include <QFileInfo>

#include "core/audio/decoder.h"
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

AudioBuffer loadStem(const JobRecord& r, const QString& stem) {
    AudioBuffer b = decodeAudio(r.stemFile(stem).toStdString());
    if (r.gain != 1.0)  // back to the model's own level
        for (float& x : b.samples)
            x = static_cast<float>(x / r.gain);
    return b;
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
        AudioBuffer audio;
        if (stems[i] == "mix" && !o.currentMix.samples.empty()) {
            audio = o.currentMix;
        } else if (stems[i].startsWith("no_") && !o.twoStems.isEmpty()) {
            for (const QString& other : r.stems) {
                if (other == o.twoStems) continue;
                const AudioBuffer b = loadStem(r, other);
                if (audio.samples.empty())
                    audio = b;
                else
                    for (size_t k = 0; k < std::min(audio.samples.size(), b.samples.size()); ++k)
                        audio.samples[k] += b.samples[k];
            }
        } else {
            audio = loadStem(r, stems[i]);
        }
        QDir().mkpath(QFileInfo(targets[i]).absolutePath());
        encodeAudio(targets[i].toStdString(), audio, o.encode);
        if (progress && !progress(double(i + 1) / double(stems.size())))
            throw Error(ErrorKind::Cancelled, "", "export cancelled");
    }
    return targets;
}

}  // namespace msplit
