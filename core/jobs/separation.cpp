#include "core/jobs/separation.h"

#include <QDir>
#include <QFileInfo>

#include "core/engine/device.h"
#include "core/engine/error.h"
#include "core/engine/model_loader.h"
#include "core/error.h"
#include "core/models/local_repo.h"

namespace msplit {

LoadedModel loadSeparationModel(const SeparationSettings& s) {
    if (s.repo.empty()) throw Error(ErrorKind::NotFound, s.model, "no model folder given");
    LocalRepo repo(s.repo);
    BagSpec spec = repo.resolve(s.model);
    try {
        const at::Device device = engine::parseDevice(s.device);
        const at::ScalarType dtype = engine::parsePrecision(s.precision, device);
        std::vector<std::shared_ptr<engine::Model>> models;
        for (const auto& file : spec.files)
            models.push_back(
                engine::loadModel(file, at::TensorOptions().device(device).dtype(dtype)));
        std::optional<engine::Segment> segment;
        if (spec.segment) segment = engine::Segment::fromSeconds(*spec.segment);
        LoadedModel loaded;
        loaded.name = s.model;
        loaded.bag = std::make_shared<engine::Bag>(std::move(models), spec.weights, segment);
        loaded.deviceName = engine::deviceDescription(device);
        return loaded;
    } catch (const engine::Error& e) {
        throw Error(ErrorKind::InvalidInput, s.model, e.what());
    }
}

namespace {

AudioBuffer fromTensor(const at::Tensor& t, int sampleRate) {
    at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
    AudioBuffer b;
    b.sampleRate = sampleRate;
    b.channels = static_cast<int>(c.size(0));
    b.samples.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return b;
}

}  // namespace

std::vector<Stem> separateAudio(const LoadedModel& model, const AudioBuffer& mix,
                                const SeparationSettings& s,
                                const engine::ProgressCallback& progress,
                                const engine::CancelToken* cancel) {
    const engine::Bag& bag = *model.bag;
    if (mix.sampleRate != bag.samplerate() || mix.channels != bag.audioChannels())
        throw Error(ErrorKind::Internal, model.name,
                    "the mix is not at the model's sample rate and channel count");
    if (mix.frames() < 2)
        throw Error(ErrorKind::NoAudio, model.name, "the audio is too short to separate");
    const auto& sources = bag.sources();
    if (s.twoStems && std::find(sources.begin(), sources.end(), *s.twoStems) == sources.end()) {
        std::string all;
        for (const auto& n : sources)
            all += (all.empty() ? "" : ", ") + n;
        throw Error(ErrorKind::InvalidInput, *s.twoStems,
                    "this stem is not in the model (its stems: " + all + ")");
    }
    engine::ApplyOptions opt;
    opt.shifts = s.shifts;
    opt.overlap = s.overlap;
    opt.segment = s.segment;
    opt.seed = s.seed;
    opt.batchSize = s.batch;
    at::Tensor wav = at::from_blob(const_cast<float*>(mix.samples.data()),
                                   {mix.channels, mix.frames()}, at::kFloat);
    at::Tensor out;
    try {
        out = engine::separate(bag, wav, opt, progress, cancel);
    } catch (const engine::Cancelled&) {
        throw Error(ErrorKind::Cancelled, model.name, "separation cancelled");
    } catch (const engine::Error& e) {
        throw Error(ErrorKind::InvalidInput, model.name, e.what());
    }

    std::vector<Stem> stems;
    const int sr = static_cast<int>(bag.samplerate());
    if (!s.twoStems) {
        for (size_t i = 0; i < sources.size(); ++i)
            stems.push_back({sources[i], fromTensor(out[static_cast<int64_t>(i)], sr)});
        return stems;
    }
    const auto index = static_cast<int64_t>(std::find(sources.begin(), sources.end(), *s.twoStems) -
                                            sources.begin());
    at::Tensor stem = out[index];
    stems.push_back({*s.twoStems, fromTensor(stem, sr)});
    if (s.otherMethod == "add") {
        stems.push_back({"no_" + *s.twoStems, fromTensor(out.sum(0) - stem, sr)});
    } else if (s.otherMethod == "minus") {
        stems.push_back({"minus_" + *s.twoStems, fromTensor(wav - stem, sr)});
    } else if (s.otherMethod != "none") {
        throw Error(ErrorKind::InvalidInput, s.otherMethod,
                    "unknown method for the other stem (use add, minus or none)");
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
