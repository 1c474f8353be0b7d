#include "core/jobs/separation.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <deque>

#include "core/audio/decoder.h"
#include "core/error.h"
#include "core/file_names.h"
#include "core/models/local_repo.h"

namespace msplit {

LoadedModel loadSeparationModel(const SeparationSettings& s) {
    if (s.repo.empty()) throw Error(ErrorKind::NotFound, s.model, "no model folder given");
    LocalRepo repo(s.repo);
    engine::ModelSpec spec = toModelSpec(repo.resolve(s.model));
    spec.device = s.device;
    spec.precision = s.precision;
    try {
        LoadedModel loaded;
        loaded.name = s.model;
        loaded.separator = engine::Separator::load(spec);
        loaded.deviceName = loaded.separator->deviceName();
        return loaded;
    } catch (const engine::Error& e) {
        throw Error(ErrorKind::InvalidInput, s.model, e.what());
    }
}

std::vector<std::string> outputStems(const LoadedModel& model, const SeparationSettings& s) {
    const auto& sources = model.separator->sources();
    if (!s.twoStems) return sources;
    if (std::find(sources.begin(), sources.end(), *s.twoStems) == sources.end()) {
        std::string all;
        for (const auto& n : sources)
            all += (all.empty() ? "" : ", ") + n;
        throw Error(ErrorKind::InvalidInput, *s.twoStems,
                    "this stem is not in the model (its stems: " + all + ")");
    }
    if (s.otherMethod == "add") return {*s.twoStems, "no_" + *s.twoStems};
    if (s.otherMethod == "minus") return {*s.twoStems, "minus_" + *s.twoStems};
    if (s.otherMethod == "none") return {*s.twoStems};
    throw Error(ErrorKind::InvalidInput, s.otherMethod,
                "unknown method for the other stem (use add, minus or none)");
}

namespace {

// Runs the engine over a mix read block by block and hands on the output stems: the sources,
// or with two stems the chosen one and the others summed in order (as demucs: from zeros), or
// the mix minus it (the mix's frames are kept until their stems are out).
class StemStream {
public:
    StemStream(const LoadedModel& model, const SeparationSettings& s)
        : model_(model), s_(s), mix_(size_t(model.separator->channels())) {
        outputStems(model, s);  // refuses an unknown stem or method before any work
        const auto& sources = model.separator->sources();
        if (s.twoStems)
            index_ = static_cast<size_t>(std::find(sources.begin(), sources.end(), *s.twoStems) -
                                         sources.begin());
    }

    void run(const engine::MixStatistics& stats, const engine::MixRead& read,
             const StemFrames& write, const engine::ProgressCallback& progress,
             const engine::CancelToken* cancel) {
        const int C = model_.separator->channels();
        const bool keepMix = s_.twoStems && s_.otherMethod == "minus";
        try {
            model_.separator->separate(
                stats,
                [&](float* planar, int64_t max) {
                    const int64_t n = read(planar, max);
                    if (keepMix)
                        for (int c = 0; c < C; ++c)
                            mix_[size_t(c)].insert(mix_[size_t(c)].end(), planar + c * n,
                                                   planar + (c + 1) * n);
                    return n;
                },
                [&](const float* sources, int64_t n) { write(stems(sources, n, C), n); },
                s_.options, progress, cancel);
        } catch (const engine::Cancelled&) {
            throw Error(ErrorKind::Cancelled, model_.name, "separation cancelled");
        } catch (const engine::Error& e) {
            throw Error(ErrorKind::InvalidInput, model_.name, e.what());
        }
    }

private:
    const float* stems(const float* sources, int64_t n, int C) {
        if (!s_.twoStems) return sources;
        const auto block = static_cast<size_t>(C * n);
        const float* stem = sources + index_ * block;
        out_.assign(stem, stem + block);
        if (s_.otherMethod == "add") {
            std::vector<float> rest(block, 0.0f);
            for (size_t k = 0; k < model_.separator->sources().size(); ++k)
                if (k != index_)
                    for (size_t i = 0; i < block; ++i)
                        rest[i] += sources[k * block + i];
            out_.insert(out_.end(), rest.begin(), rest.end());
        } else if (s_.otherMethod == "minus") {
            for (int c = 0; c < C; ++c) {
                auto& m = mix_[size_t(c)];
                for (int64_t i = 0; i < n; ++i)
                    out_.push_back(m[size_t(i)] - stem[c * n + i]);
                m.erase(m.begin(), m.begin() + n);
            }
        }
        return out_.data();
    }

    const LoadedModel& model_;
    const SeparationSettings& s_;
    size_t index_ = 0;
    std::vector<float> out_;
    std::vector<std::deque<float>> mix_;  // per channel, for "minus"
};

}  // namespace

AudioInfo separateFile(const LoadedModel& model, const std::string& path,
                       const SeparationSettings& s, const StemFrames& write,
                       const std::function<bool(double)>& reading,
                       const engine::ProgressCallback& progress, const engine::CancelToken* cancel,
                       const StemFrames& firstPass) {
    const engine::Separator& separator = *model.separator;
    const int rate = separator.sampleRate(), C = separator.channels();
    StemStream stream(model, s);  // checks the stems before any work
    constexpr int64_t kBlock = 1 << 16;
    std::vector<float> block(static_cast<size_t>(kBlock * C));
    // First pass: the whole song's statistics, which the normalisation needs up front.
    engine::MixStatistics stats;
    AudioInfo info;
    {
        AudioReader reader(path, rate, C);
        info = reader.info();
        while (const int64_t n = reader.read(block.data(), kBlock)) {
            stats.add(block.data(), C, n);
            if (s.maxSeconds > 0 && double(stats.frames()) > s.maxSeconds * rate)
                throw Error(ErrorKind::InvalidInput, path,
                            "the audio is longer than the " +
                                std::to_string(static_cast<long long>(s.maxSeconds)) +
                                " s allowed (its header said less)");
            if (firstPass) firstPass(block.data(), n);
            if ((reading && !reading(reader.progress())) || (cancel && cancel->cancelled()))
                throw Error(ErrorKind::Cancelled, path, "separation cancelled");
        }
    }
    if (stats.frames() < 2)
        throw Error(ErrorKind::NoAudio, path, "the audio is too short to separate");
    info.durationSeconds = static_cast<double>(stats.frames()) / rate;
    // Second pass: the same frames again, as the engine asks for them.
    AudioReader reader(path, rate, C);
    stream.run(
        stats,
        [&](float* planar, int64_t max) {
            const int64_t n = reader.read(planar, max);
            if (n == 0) throw Error(ErrorKind::InvalidInput, path, "the file changed while read");
            return n;
        },
        write, progress, cancel);
    return info;
}

std::vector<Stem> separateAudio(const LoadedModel& model, const AudioBuffer& mix,
                                const SeparationSettings& s,
                                const engine::ProgressCallback& progress,
                                const engine::CancelToken* cancel) {
    const engine::Separator& separator = *model.separator;
    if (mix.sampleRate != separator.sampleRate() || mix.channels != separator.channels())
        throw Error(ErrorKind::Internal, model.name,
                    "the mix is not at the model's sample rate and channel count");
    if (mix.frames() < 2)
        throw Error(ErrorKind::NoAudio, model.name, "the audio is too short to separate");
    const int C = mix.channels;
    const int64_t frames = mix.frames();
    StemStream stream(model, s);
    const std::vector<std::string> names = outputStems(model, s);
    engine::MixStatistics stats;
    stats.add(mix.samples.data(), C, frames);
    std::vector<std::vector<float>> planes(names.size(),
                                           std::vector<float>(static_cast<size_t>(C * frames)));
    stream.run(stats, engine::planarReader(mix.samples.data(), C, frames),
               engine::planarWriter(planes, C, frames), progress, cancel);
    std::vector<Stem> stems;
    for (size_t k = 0; k < names.size(); ++k) {
        stems.push_back({names[k], AudioBuffer{}});
        stems.back().audio.sampleRate = mix.sampleRate;
        stems.back().audio.channels = C;
        stems.back().audio.samples = std::move(planes[k]);
    }
    return stems;
}

std::string extensionFor(FileFormat format) {
    switch (format) {
        case FileFormat::Flac:
            return "flac";
        case FileFormat::Mp3:
            return "mp3";
        case FileFormat::Wav:
            return "wav";
    }
    return "wav";
}

std::string stemPath(const std::string& outDir, const std::string& tmpl,
                     const std::string& inputPath, const std::string& stem,
                     const std::string& ext) {
    const QString name = QFileInfo(QString::fromStdString(inputPath)).fileName();
    const int dot = name.lastIndexOf('.');
    return stemPathForTrack(outDir, tmpl, dot > 0 ? name.left(dot) : name,
                            dot > 0 ? name.mid(dot + 1) : name, stem, ext);
}

std::string stemPathForTrack(const std::string& outDir, const std::string& tmpl,
                             const QString& track, const QString& trackExtension,
                             const std::string& stem, const std::string& ext) {
    // A file name here may be copied later to a FAT or exFAT stick (DJs' players read those),
    // where : * ? " < > | are not allowed: safeFileName leaves them out too.
    QString rel = QString::fromStdString(tmpl);
    rel.replace("{track}", safeFileName(track))
        .replace("{trackext}", trackExtension.isEmpty() ? QString() : safeFileName(trackExtension))
        .replace("{stem}", safeFileName(QString::fromStdString(stem)));
    rel.replace("{ext}", QString::fromStdString(ext));
    const QString root = QDir(QString::fromStdString(outDir)).absolutePath();
    const QString full = QDir::cleanPath(root + "/" + rel);
    if (rel.isEmpty() || QDir::isAbsolutePath(rel) || !full.startsWith(root + "/"))
        throw Error(ErrorKind::InvalidInput, tmpl,
                    "the file name template must stay inside the output folder");
    return full.toStdString();
}

}  // namespace msplit
