#include "core/engine/apply.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <new>
#include <string>

#include "core/engine/allocator.h"
#include "core/engine/error.h"

namespace msplit::engine {

// ---- Bag -------------------------------------------------------------------------------------

Bag::Bag(std::vector<std::shared_ptr<Model>> models, std::vector<std::vector<double>> weights,
         std::optional<Segment> segment)
    : models_(std::move(models)), weights_(std::move(weights)) {
    if (models_.empty()) throw Error("a bag needs at least one model");
    const Model& first = *models_.front();
    for (const auto& m : models_) {
        if (m->sources() != first.sources() || m->samplerate() != first.samplerate() ||
            m->audioChannels() != first.audioChannels())
            throw Error("the models of a bag must have the same sources, sample rate and channels");
        if (segment && (!m->isTransformer() || segment->seconds <= m->segment().seconds))
            m->setSegment(*segment);
    }
    const size_t nSources = first.sources().size();
    if (weights_.empty()) weights_.assign(models_.size(), std::vector<double>(nSources, 1.0));
    if (weights_.size() != models_.size()) throw Error("a bag needs one row of weights per model");
    for (const auto& row : weights_)
        if (row.size() != nSources) throw Error("a bag needs one weight per source in each row");
    for (size_t k = 0; k < nSources; ++k) {
        double total = 0;
        for (const auto& row : weights_)
            total += row[k];
        if (total == 0)
            throw Error("the bag's weights for source " + first.sources()[k] + " sum to zero");
    }
}

double Bag::maxAllowedSegment() const {
    double limit = std::numeric_limits<double>::infinity();
    for (const auto& m : models_)
        if (m->isTransformer()) limit = std::min(limit, m->segment().seconds);
    return limit;
}

// ---- applying --------------------------------------------------------------------------------

namespace {

// A window on the last dimension of a tensor (apply.py TensorChunk).
struct Chunk {
    at::Tensor tensor;
    int64_t offset = 0;
    int64_t length = 0;

    static Chunk whole(const at::Tensor& t) { return {t, 0, t.size(-1)}; }
    Chunk sub(int64_t off, int64_t len) const {
        return {tensor, offset + off, std::min(length - off, len)};
    }
    // The chunk centred in `target` samples, taking context from the tensor, zeros past its ends.
    at::Tensor padded(int64_t target) const {
        const int64_t delta = target - length;
        const int64_t start = offset - delta / 2, end = start + target;
        const int64_t cs = std::max<int64_t>(0, start), ce = std::min(tensor.size(-1), end);
        return at::constant_pad_nd(tensor.slice(-1, cs, ce), {cs - start, end - ce});
    }
};

at::Tensor centerTrim(const at::Tensor& t, int64_t length) {
    const int64_t delta = t.size(-1) - length;
    if (delta < 0) throw Error("internal: model output shorter than its input");
    return delta ? t.slice(-1, delta / 2, t.size(-1) - (delta - delta / 2)) : t;
}

class Runner {
public:
    Runner(const ApplyOptions& opt, const ProgressCallback& cb, const CancelToken* cancel)
        : opt_(opt),
          callback_(cb),
          cancel_(cancel),
          rng_(opt.seed ? opt.seed : std::random_device{}()) {}

    at::Tensor run(const Bag& bag, const at::Tensor& mix) {
        const int64_t length = mix.size(-1);
        const int64_t maxShift = bag.samplerate() / 2;
        // Draw every shift first (model by model, as apply.py does) so the total work is known.
        for (const auto& model : bag.models()) {
            std::vector<int64_t> offsets;
            for (int s = 0; s < opt_.shifts; ++s)
                offsets.push_back(std::uniform_int_distribution<int64_t>(0, maxShift)(rng_));
            for (int64_t off : offsets)
                progress_.total += forwardsFor(*model, length + maxShift - off);
            if (opt_.shifts == 0) progress_.total += forwardsFor(*model, length);
            shiftOffsets_.push_back(std::move(offsets));
        }
        start_ = Clock::now();
        report();

        at::Tensor estimates;
        std::vector<double> totals(bag.sources().size(), 0.0);
        for (size_t i = 0; i < bag.models().size(); ++i) {
            shiftIndex_ = i;
            at::Tensor out = applyModel(*bag.models()[i], Chunk::whole(mix));
            for (size_t k = 0; k < totals.size(); ++k) {
                out.select(1, static_cast<int64_t>(k)).mul_(bag.weights()[i][k]);
                totals[k] += bag.weights()[i][k];
            }
            estimates = estimates.defined() ? estimates + out : out;
        }
        for (size_t k = 0; k < totals.size(); ++k)
            estimates.select(1, static_cast<int64_t>(k)).div_(totals[k]);
        return estimates;
    }

private:
    using Clock = std::chrono::steady_clock;

    int64_t segmentLength(const Model& model) const {
        const Segment seg = opt_.segment ? Segment::fromSeconds(*opt_.segment) : model.segment();
        const int64_t len = seg.samples(model.samplerate());
        if (len <= 0) throw Error("the segment length must be positive");
        return len;
    }
    int64_t strideFor(const Model& model) const {
        const auto stride =
            static_cast<int64_t>((1 - opt_.overlap) * static_cast<double>(segmentLength(model)));
        if (stride <= 0) throw Error("the overlap leaves no stride between segments");
        return stride;
    }
    int64_t forwardsFor(const Model& model, int64_t length) const {
        if (!opt_.split) return 1;
        const int64_t stride = strideFor(model);
        return (length + stride - 1) / stride;
    }
    int64_t validLength(const Model& model, int64_t length) const {
        if (model.isTransformer() && opt_.segment)
            return Segment::fromSeconds(*opt_.segment).samples(model.samplerate());
        return model.validLength(length);
    }

    void report() {
        if (!callback_) return;
        progress_.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start_).count();
        progress_.etaSeconds = progress_.done ? progress_.elapsedSeconds / double(progress_.done) *
                                                    double(progress_.total - progress_.done)
                                              : -1;
        callback_(progress_);
    }

    // Runs the model on a list of chunks at once; returns one (B, S, C, length) tensor each.
    std::vector<at::Tensor> forward(const Model& model, const std::vector<Chunk>& chunks) {
        if (cancel_ && cancel_->cancelled()) throw Cancelled();
        const int64_t valid = validLength(model, chunks.front().length);
        std::vector<at::Tensor> inputs;
        for (const auto& c : chunks)
            inputs.push_back(c.padded(valid));
        const at::Tensor& ref = chunks.front().tensor;
        const int64_t B = ref.size(0);
        at::Tensor input = at::cat(inputs, 0).to(model.options());
        at::Tensor out = model.forward(input).to(ref.options());
        std::vector<at::Tensor> outs;
        for (size_t i = 0; i < chunks.size(); ++i)
            outs.push_back(
                centerTrim(out.slice(0, int64_t(i) * B, int64_t(i + 1) * B), chunks[i].length));
        progress_.done += static_cast<int64_t>(chunks.size());
        report();
        return outs;
    }

    at::Tensor applyModel(const Model& model, const Chunk& mix) {
        if (opt_.shifts > 0) return applyShifted(model, mix);
        if (opt_.split) return applySplit(model, mix);
        return forward(model, {mix}).front();
    }

    at::Tensor applyShifted(const Model& model, const Chunk& mix) {
        const int64_t length = mix.length, maxShift = model.samplerate() / 2;
        const at::Tensor paddedMix = mix.padded(length + 2 * maxShift);
        at::Tensor out;
        for (int64_t offset : shiftOffsets_[shiftIndex_]) {
            Chunk shifted{paddedMix, offset, length + maxShift - offset};
            at::Tensor res =
                opt_.split ? applySplit(model, shifted) : forward(model, {shifted}).front();
            res = res.slice(-1, maxShift - offset, res.size(-1));
            out = out.defined() ? out + res : res;
        }
        return out / static_cast<double>(opt_.shifts);
    }

    at::Tensor applySplit(const Model& model, const Chunk& mix) {
        const at::Tensor& ref = mix.tensor;
        const int64_t length = mix.length;
        const int64_t segment = segmentLength(model), stride = strideFor(model);
        const auto S = static_cast<int64_t>(model.sources().size());
        at::Tensor out = at::zeros({ref.size(0), S, ref.size(1), length}, ref.options());
        at::Tensor sumWeight = at::zeros({length}, ref.options());
        // Triangular cross-fade weights, raised to the transition power.
        auto f32 = ref.options();
        at::Tensor weight = at::cat(
            {at::arange(1, segment / 2 + 1, f32), at::arange(segment - segment / 2, 0, -1, f32)});
        weight = at::pow(weight / weight.max(), opt_.transitionPower);

        std::vector<Chunk> pending;
        std::vector<int64_t> pendingOffsets;
        auto flush = [&] {
            if (pending.empty()) return;
            auto outs = forward(model, pending);
            for (size_t i = 0; i < outs.size(); ++i) {
                const int64_t off = pendingOffsets[i], len = outs[i].size(-1);
                at::Tensor w = weight.slice(0, 0, len);
                out.slice(-1, off, off + len).add_(outs[i] * w);
                sumWeight.slice(0, off, off + len).add_(w);
            }
            pending.clear();
            pendingOffsets.clear();
        };
        for (int64_t offset = 0; offset < length; offset += stride) {
            Chunk chunk = mix.sub(offset, segment);
            // Only chunks that pad to the same length can share a forward call.
            if (!pending.empty() &&
                validLength(model, chunk.length) != validLength(model, pending.front().length))
                flush();
            pending.push_back(chunk);
            pendingOffsets.push_back(offset);
            if (static_cast<int>(pending.size()) >= std::max(1, opt_.batchSize)) flush();
        }
        flush();
        if (sumWeight.min().item<float>() <= 0)
            throw Error("internal: a sample got no segment weight");
        return out / sumWeight;
    }

    const ApplyOptions& opt_;
    const ProgressCallback& callback_;
    const CancelToken* cancel_;
    std::mt19937_64 rng_;
    std::vector<std::vector<int64_t>> shiftOffsets_;
    size_t shiftIndex_ = 0;
    Progress progress_;
    Clock::time_point start_;
};

// Exhausted memory arrives as std::bad_alloc (large tensors, allocator.h) or as LibTorch's own
// c10::Error (small tensors, CUDA); either becomes the engine's Error, saying what helps. Any other
// refusal by LibTorch (a device mismatch, a driver failure) becomes the engine's Error too, with
// LibTorch's first line, so every front end reports it instead of aborting.
template <typename F>
at::Tensor reportingFailures(F&& f) {
    const char* memory =
        "not enough memory to separate this (shorter segments, one segment per batch or fewer "
        "jobs at once need less)";
    try {
        return f();
    } catch (const std::bad_alloc&) {
        throw Error(memory);
    } catch (const Error&) {
        throw;
    } catch (const c10::Error& e) {
        const std::string what = e.what_without_backtrace();
        if (what.find("can't allocate memory") != std::string::npos ||
            what.find("out of memory") != std::string::npos)
            throw Error(memory);
        throw Error("the separation failed in LibTorch: " + what.substr(0, what.find('\n')));
    }
}

}  // namespace

at::Tensor applyBag(const Bag& bag, const at::Tensor& mix, const ApplyOptions& options,
                    const ProgressCallback& progress, const CancelToken* cancel) {
    if (mix.dim() != 3) throw Error("the mix must have shape (batch, channels, samples)");
    if (mix.size(1) != bag.audioChannels())
        throw Error("the model expects " + std::to_string(bag.audioChannels()) +
                    " channels, the mix has " + std::to_string(mix.size(1)));
    if (mix.size(-1) == 0) throw Error("the mix is empty");
    if (options.shifts < 0) throw Error("shifts must not be negative");
    if (options.overlap < 0 || options.overlap >= 1) throw Error("the overlap must be in [0, 1)");
    if (options.transitionPower < 1) throw Error("the transition power must be at least 1");
    if (options.segment && *options.segment > bag.maxAllowedSegment())
        throw Error(
            "cannot use a transformer model with a longer segment than it was trained for "
            "(maximum " +
            std::to_string(bag.maxAllowedSegment()) + " s)");
    at::NoGradGuard noGrad;
    struct ReleaseCache {  // also when cancelled or failed
        ~ReleaseCache() { releaseCachedBlocks(); }
    } releaseCache;
    return reportingFailures(
        [&] { return Runner(options, progress, cancel).run(bag, mix.to(at::kFloat)); });
}

at::Tensor separate(const Bag& bag, const at::Tensor& mix, const ApplyOptions& options,
                    const ProgressCallback& progress, const CancelToken* cancel) {
    if (mix.dim() != 2) throw Error("the mix must have shape (channels, samples)");
    return reportingFailures([&] {
        at::Tensor ref = mix.mean(0);
        const at::Tensor mean = ref.mean();
        const at::Tensor scale = ref.std() + 1e-8;
        at::Tensor wav = (mix - mean) / scale;
        at::Tensor out = applyBag(bag, wav.unsqueeze(0), options, progress, cancel).squeeze(0);
        return out * scale + mean;
    });
}

}  // namespace msplit::engine
