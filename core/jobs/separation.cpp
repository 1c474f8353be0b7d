#include "core/jobs/separation.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

#include "core/error.h"
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
    const auto& sources = separator.sources();
    if (s.twoStems && std::find(sources.begin(), sources.end(), *s.twoStems) == sources.end()) {
        std::string all;
        for (const auto& n : sources)
            all += (all.empty() ? "" : ", ") + n;
        throw Error(ErrorKind::InvalidInput, *s.twoStems,
                    "this stem is not in the model (its stems: " + all + ")");
    }
    if (s.twoStems && s.otherMethod != "add" && s.otherMethod != "minus" && s.otherMethod != "none")
        throw Error(ErrorKind::InvalidInput, s.otherMethod,
                    "unknown method for the other stem (use add, minus or none)");
    std::vector<std::vector<float>> out;
    try {
        out = separator.separate(mix.samples.data(), mix.frames(), s.options, progress, cancel);
    } catch (const engine::Cancelled&) {
        throw Error(ErrorKind::Cancelled, model.name, "separation cancelled");
    } catch (const engine::Error& e) {
        throw Error(ErrorKind::InvalidInput, model.name, e.what());
    }
    const auto stemOf = [&](std::vector<float> samples) {
        AudioBuffer b;
        b.sampleRate = mix.sampleRate;
        b.channels = mix.channels;
        b.samples = std::move(samples);
        return b;
    };

    std::vector<Stem> stems;
    if (!s.twoStems) {
        for (size_t i = 0; i < sources.size(); ++i)
            stems.push_back({sources[i], stemOf(std::move(out[i]))});
        return stems;
    }
    const auto index = static_cast<size_t>(std::find(sources.begin(), sources.end(), *s.twoStems) -
                                           sources.begin());
    if (s.otherMethod == "add") {  // the other sources summed, as demucs does
        std::vector<float> rest(out[index].size(), 0.0f);
        for (size_t k = 0; k < out.size(); ++k)
            if (k != index)
                for (size_t i = 0; i < rest.size(); ++i)
                    rest[i] += out[k][i];
        stems.push_back({*s.twoStems, stemOf(std::move(out[index]))});
        stems.push_back({"no_" + *s.twoStems, stemOf(std::move(rest))});
    } else if (s.otherMethod == "minus") {  // the mix minus the stem
        std::vector<float> rest(mix.samples.begin(), mix.samples.end());
        for (size_t i = 0; i < rest.size(); ++i)
            rest[i] -= out[index][i];
        stems.push_back({*s.twoStems, stemOf(std::move(out[index]))});
        stems.push_back({"minus_" + *s.twoStems, stemOf(std::move(rest))});
    } else {
        stems.push_back({*s.twoStems, stemOf(std::move(out[index]))});
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
    const QString track = dot > 0 ? name.left(dot) : name;
    const QString trackext = dot > 0 ? name.mid(dot + 1) : name;
    QString rel = QString::fromStdString(tmpl);
    rel.replace("{track}", track)
        .replace("{trackext}", trackext)
        .replace("{stem}", QString::fromStdString(stem));
    rel.replace("{ext}", QString::fromStdString(ext));
    const QString root = QDir(QString::fromStdString(outDir)).absolutePath();
    const QString full = QDir::cleanPath(root + "/" + rel);
    if (rel.isEmpty() || QDir::isAbsolutePath(rel) || !full.startsWith(root + "/"))
        throw Error(ErrorKind::InvalidInput, tmpl,
                    "the file name template must stay inside the output folder");
    return full.toStdString();
}

}  // namespace msplit
