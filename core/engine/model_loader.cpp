#include "core/engine/model_loader.h"

#include "core/engine/device.h"

#include "core/engine/checkpoint.h"
#include "core/engine/error.h"
#include "core/engine/hdemucs.h"
#include "core/engine/htdemucs.h"
#include "core/engine/kwargs.h"
#include "core/engine/log.h"
#include "core/engine/params.h"

namespace msplit::engine {

std::shared_ptr<Model> loadModel(const std::string& path, const at::TensorOptions& options) {
    Checkpoint ck = loadCheckpoint(path);
    if (!ck.args->items.empty())
        throw Error(path + ": positional model arguments are not supported");
    Kwargs kwargs(*ck.kwargs);
    Params params(std::move(ck.state), options);
    std::shared_ptr<Model> model;
    try {
        if (ck.klass == "demucs.htdemucs.HTDemucs") {
            model = std::make_shared<HTDemucs>(kwargs, params);
        } else if (ck.klass == "demucs.hdemucs.HDemucs") {
            model = std::make_shared<HDemucs>(kwargs, params);
        } else if (ck.klass == "demucs.demucs.Demucs") {
            throw Error(
                "Demucs v2 models (demucs.demucs.Demucs) are not supported: bags that use them, "
                "such as mdx and mdx_q, cannot be loaded; use mdx_extra or htdemucs");
        } else {
            throw Error("unknown model class " + ck.klass);
        }
        params.checkAllUsed();
        model->setParameters(params.usedElements());
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    } catch (const c10::Error& e) {
        throw Error(path + ": " + e.what_without_backtrace());
    }
    for (const auto& key : kwargs.unused())
        log(LogLevel::Debug, path + ": ignoring model argument " + key);
    return model;
}

std::shared_ptr<Bag> loadBag(const ModelSpec& spec) {
    if (spec.files.empty()) throw Error("no model file given");
    const at::Device device = parseDevice(spec.device);
    const at::ScalarType dtype = parsePrecision(spec.precision, device);
    std::vector<std::shared_ptr<Model>> models;
    for (const auto& file : spec.files)
        models.push_back(loadModel(file, at::TensorOptions().device(device).dtype(dtype)));
    std::optional<Segment> segment;
    if (spec.segment) segment = Segment::fromSeconds(*spec.segment);
    return std::make_shared<Bag>(std::move(models), spec.weights, segment);
}

}  // namespace msplit::engine
