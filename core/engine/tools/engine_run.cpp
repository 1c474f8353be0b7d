// music-split-engine-run: runs Demucs models on a .npy mix with only LibTorch, so parity and
// speed can be checked on a machine that has nothing else (e.g. a GPU box).
//
//   music-split-engine-run --model A.th [--model B.th ...] [--weights "1,0,0,0;0,1,0,0;..."]
//       [--bag-segment S] [--segment S] [--overlap F] [--shifts N] [--device D] [--precision P]
//       [--threads N] [--batch N] [--forward] [--compare REF.npy [--tolerance T]] IN.npy OUT.npy
//   music-split-engine-run --config htdemucs --seconds 30 [options]   (random weights, timing)
//   --profile OPS.tsv: LibTorch's profiler over the timed part: own time per operator and input
//   shapes, every row to OPS.tsv and the largest printed. --no-mkldnn: convolutions without
//   oneDNN (im2col and BLAS), to compare the two.
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/engine/allocator.h"
#include "core/engine/apply.h"
#include "core/engine/device.h"
#include "core/engine/engine.h"
#include "core/engine/error.h"
#include "core/engine/model_configs.h"
#include "core/engine/model_loader.h"
#include "core/engine/npy.h"
#include "core/engine/tools/op_profile.h"

using namespace msplit::engine;

namespace {

std::vector<std::vector<double>> parseWeights(const std::string& text) {
    std::vector<std::vector<double>> rows;
    std::stringstream rowsIn(text);
    std::string row;
    while (std::getline(rowsIn, row, ';')) {
        std::vector<double> values;
        std::stringstream valuesIn(row);
        std::string v;
        while (std::getline(valuesIn, v, ','))
            values.push_back(std::stod(v));
        rows.push_back(values);
    }
    return rows;
}

int usage() {
    std::cerr
        << "usage: music-split-engine-run --model FILE.th [--model ...] [--weights W] "
           "[--bag-segment S]\n"
           "  [--segment S] [--overlap F] [--shifts N] [--seed N] [--device D] [--precision P] "
           "[--threads N]\n"
           "  [--batch N] [--forward] [--profile OPS.tsv] [--no-mkldnn] [--compare REF.npy] "
           "[--tolerance T] "
           "IN.npy OUT.npy\n"
           "   or: music-split-engine-run --config htdemucs|htdemucs_6s --seconds N [options]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    relaunchWithPassiveThreads(argv);  // like the app's programs: idle OpenMP threads sleep
    std::vector<std::string> models, positional;
    std::vector<std::vector<double>> weights;
    std::optional<Segment> bagSegment;
    ApplyOptions opt;
    opt.shifts = 0;
    std::string device = "auto", precision = "float32", compare, config, profile;
    double seconds = 0;
    int threads = 0;
    bool forwardOnly = false;
    double tolerance = 1e-4;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            auto next = [&]() -> std::string {
                if (i + 1 >= argc) throw Error("missing value after " + a);
                return argv[++i];
            };
            if (a == "--model")
                models.push_back(next());
            else if (a == "--config")
                config = next();
            else if (a == "--seconds")
                seconds = std::stod(next());
            else if (a == "--weights")
                weights = parseWeights(next());
            else if (a == "--bag-segment")
                bagSegment = Segment::fromSeconds(std::stod(next()));
            else if (a == "--segment")
                opt.segment = std::stod(next());
            else if (a == "--overlap")
                opt.overlap = std::stod(next());
            else if (a == "--shifts")
                opt.shifts = std::stoi(next());
            else if (a == "--seed")
                opt.seed = std::stoull(next());
            else if (a == "--device")
                device = next();
            else if (a == "--precision")
                precision = next();
            else if (a == "--threads")
                threads = std::stoi(next());
            else if (a == "--batch")
                opt.batchSize = std::stoi(next());
            else if (a == "--forward")
                forwardOnly = true;
            else if (a == "--compare")
                compare = next();
            else if (a == "--profile")
                profile = next();
            else if (a == "--no-mkldnn")
                at::globalContext().setUserEnabledMkldnn(false);
            else if (a == "--tolerance")
                tolerance = std::stod(next());
            else if (a == "--help" || a == "-h")
                return usage();
            else if (!a.empty() && a[0] == '-')
                throw Error("unknown option " + a);
            else
                positional.push_back(a);
        }
        const bool random = !config.empty();
        if (random ? seconds <= 0 : (models.empty() || positional.size() != 2)) return usage();

        setThreads(threads);
        const at::Device dev = parseDevice(device);
        const at::ScalarType dtype = parsePrecision(precision, dev);
        std::vector<std::shared_ptr<Model>> loaded;
        const auto options = at::TensorOptions().device(dev).dtype(dtype);
        for (const auto& m : models)
            loaded.push_back(loadModel(m, options));
        if (random) loaded.push_back(buildRandomModel(config, options).model);
        Bag bag(loaded, weights, bagSegment);
        at::Tensor mix =
            random ? at::randn({2, static_cast<int64_t>(seconds * double(bag.samplerate()))}) * 0.1
                   : readNpy(positional[0]);

        const auto start = std::chrono::steady_clock::now();
        at::Tensor out;
        std::optional<OpProfile> profiling;
        if (!profile.empty()) profiling.emplace(profile);
        if (forwardOnly) {
            c10::InferenceMode inference;
            const Model& m = *bag.models().front();
            const int64_t len = m.segment().samples(m.samplerate());
            at::Tensor in = mix.slice(-1, 0, len);
            in = at::constant_pad_nd(in, {0, len - in.size(-1)}).unsqueeze(0);
            out = m.forward(in.to(m.options())).to(at::kCPU, at::kFloat);
        } else {
            out = separate(bag, mix, opt);
        }
        profiling.reset();  // writes the table
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!random) writeNpy(positional[1], out);
        std::cout << "device " << deviceDescription(dev) << ", " << seconds << " s for "
                  << double(mix.size(-1)) / double(bag.samplerate()) << " s of audio; tensors "
                  << "of 1 MiB and more: peak " << (largeBlockStats().peak >> 20) << " MiB\n";
        if (!compare.empty()) {
            at::Tensor ref = readNpy(compare);
            if (ref.sizes() != out.sizes()) throw Error("output shape differs from the reference");
            const double err =
                (out - ref).abs().max().item<double>() / ref.abs().max().item<double>();
            std::cout << "max|out - ref| / max|ref| = " << err << " (tolerance " << tolerance
                      << ")\n";
            return err <= tolerance ? 0 : 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "music-split-engine-run: " << e.what() << "\n";
        return 1;
    }
}
