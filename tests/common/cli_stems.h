#pragma once
// Checks what `music-split-cli separate --float32` wrote against a reference case (decoded with
// the app's FFmpeg reader, so only for tests of the whole app).
#include "core/audio/decoder.h"
#include "tests/common/fixtures.h"

namespace msplit::test {

// Compares the stems `music-split-cli separate --float32` wrote for `caseName` under `stemDir`
// (OUT/NAME/input) with the case's separate.npy. Returns what is wrong, or an empty string.
inline QString compareCliStems(const QString& stemDir, const QString& caseName) {
    const QJsonObject c = caseJson(caseName);
    const at::Tensor ref = engine::readNpy((caseDir(caseName) + "/separate.npy").toStdString());
    const QJsonArray sources = c["sources"].toArray();
    if (ref.size(0) != sources.size()) return "the case's sources do not match its output";
    for (int i = 0; i < sources.size(); ++i) {
        const QString file = stemDir + "/" + sources[i].toString() + ".wav";
        if (!QFile::exists(file)) return file + " was not written";
        AudioInfo info;
        AudioBuffer stem = decodeAudio(file.toStdString(), 44100, 2, &info);
        if (info.codec != "pcm_f32le") return file + " is not float32";
        const at::Tensor got = at::from_blob(stem.samples.data(), {2, stem.frames()}, at::kFloat);
        if (got.size(1) != ref.size(2)) return file + " has the wrong length";
        // As demucs' CLI, each file is kept from clipping: divided by max(1.01 * peak, 1).
        const at::Tensor expected =
            ref[i] / std::max(1.01 * ref[i].abs().max().item<double>(), 1.0);
        const double err = relativeError(got, expected);
        if (!(err <= 1e-4))
            return QString("%1: relative error %2").arg(sources[i].toString()).arg(err);
    }
    return {};
}

}  // namespace msplit::test
