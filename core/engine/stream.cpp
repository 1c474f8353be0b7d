#include "core/engine/stream.h"

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <new>
#include <random>
#include <string>

#include "core/engine/allocator.h"
#include "core/engine/error.h"

namespace msplit::engine {
namespace {

using Clock = std::chrono::steady_clock;

// Frames read from the mix at a time, unless a segment needs more at once.
constexpr int64_t kReadFrames = int64_t(1) << 16;

// The mix as read so far: frames [start_, start_ + buffer_.size(-1)) are kept. Frames before 0
// and from `length` on are zeros, as apply.py's TensorChunk pads.
class InputWindow {
public:
    InputWindow(const MixReader& read, int64_t length) : read_(read), length_(length) {
        buffer_ = next(kReadFrames);
    }

    int64_t batch() const { return buffer_.size(0); }
    int64_t channels() const { return buffer_.size(1); }

    // Frames [from, to) of the zero-extended mix, as (B, channels, to - from).
    at::Tensor get(int64_t from, int64_t to) {
        const int64_t lo = std::max<int64_t>(from, 0), hi = std::min(to, length_);
        if (lo >= hi) return at::zeros({batch(), channels(), to - from}, buffer_.options());
        while (start_ + buffer_.size(-1) < hi)
            buffer_ =
                at::cat({buffer_, next(std::max(kReadFrames, hi - start_ - buffer_.size(-1)))}, -1);
        if (lo < start_) throw Error("internal: the stream dropped input it still needed");
        return at::constant_pad_nd(buffer_.slice(-1, lo - start_, hi - start_),
                                   {lo - from, to - hi});
    }

    // Frees what comes before `frame` (no segment still to run needs it).
    void dropBefore(int64_t frame) {
        const int64_t drop = std::min(frame - start_, buffer_.size(-1));
        if (drop < kReadFrames) return;  // not worth a copy yet
        buffer_ = buffer_.slice(-1, drop).clone();
        start_ += drop;
    }

private:
    at::Tensor next(int64_t max) {
        const int64_t wanted = std::min(max, length_ - readSoFar_);
        at::Tensor t = read_(wanted);
        if (t.dim() != 3 || t.size(-1) < 1 || t.size(-1) > wanted)
            throw Error("internal: the mix reader returned a wrong block");
        if (readSoFar_ > 0 && (t.size(0) != batch() || t.size(1) != channels()))
            throw Error("internal: the mix reader changed its shape");
        readSoFar_ += t.size(-1);
        return t.to(at::kFloat);
    }

    const MixReader& read_;
    int64_t length_;
    int64_t readSoFar_ = 0;
    int64_t start_ = 0;
    at::Tensor buffer_;
};

at::Tensor centerTrim(const at::Tensor& t, int64_t length) {
    const int64_t delta = t.size(-1) - length;
    if (delta < 0) throw Error("internal: model output shorter than its input");
    return delta ? t.slice(-1, delta / 2, t.size(-1) - (delta - delta / 2)) : t;
}

// One model at one shift offset: its segments over the shifted song, overlap-added in order.
// Chunk positions are relative to the shifted chunk; chunk position p is mix frame p + base.
struct Lane {
    const Model* model = nullptr;
    size_t modelIndex = 0;
    int64_t base = 0;         // mix frame of chunk position 0 (<= 0 with shifts)
    int64_t chunkLength = 0;  // chunk positions [0, chunkLength)
    int64_t segment = 0, stride = 0;
    at::Tensor weight;             // the cross-fade of a whole segment
    int64_t next = 0;              // chunk position of the next segment; all before it is final
    at::Tensor acc, weightSum;     // chunk positions [next, next + acc.size(-1))
    std::deque<at::Tensor> ready;  // final estimates of mix frames [readyStart, readyEnd)
    int64_t readyStart = 0, readyEnd = 0;

    bool done() const { return next >= chunkLength; }

    // Removes and returns the estimates of mix frames [readyStart, readyStart + n).
    at::Tensor take(int64_t n) {
        std::vector<at::Tensor> parts;
        int64_t need = n;
        while (need > 0) {
            at::Tensor& front = ready.front();
            const int64_t k = std::min(need, front.size(-1));
            parts.push_back(front.slice(-1, 0, k));
            if (k == front.size(-1))
                ready.pop_front();
            else
                front = front.slice(-1, k);
            need -= k;
        }
        readyStart += n;
        return parts.size() == 1 ? parts.front() : at::cat(parts, -1);
    }
};

class StreamRunner {
public:
    StreamRunner(const Bag& bag, int64_t length, const MixReader& read, const EstimateWriter& write,
                 const ApplyOptions& opt, const ProgressCallback& progress,
                 const CancelToken* cancel)
        : bag_(bag),
          length_(length),
          input_(read, length),
          write_(write),
          opt_(opt),
          callback_(progress),
          cancel_(cancel),
          rng_(opt.seed ? opt.seed : std::random_device{}()) {}

    void run() {
        if (input_.channels() != bag_.audioChannels())
            throw Error("the model expects " + std::to_string(bag_.audioChannels()) +
                        " channels, the mix has " + std::to_string(input_.channels()));
        makeLanes();
        start_ = Clock::now();
        report();
        while (emitted_ < length_) {
            Lane* lagging = nullptr;
            for (Lane& lane : lanes_)
                if (!lane.done() && (!lagging || lane.readyEnd < lagging->readyEnd))
                    lagging = &lane;
            if (!lagging) throw Error("internal: the stream ended before the song");
            step(*lagging);
            emit();
            int64_t needed = length_;
            for (const Lane& lane : lanes_)
                if (!lane.done()) needed = std::min(needed, lane.base + lane.next - margin_);
            input_.dropBefore(needed);
        }
    }

private:
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

    // One lane per model and shift, the shifts drawn first, model by model (as apply.py), so
    // the total work is known before the first segment.
    void makeLanes() {
        const int64_t maxShift = bag_.samplerate() / 2;
        const auto f32 = at::TensorOptions().dtype(at::kFloat);
        for (size_t m = 0; m < bag_.models().size(); ++m) {
            const Model& model = *bag_.models()[m];
            std::vector<int64_t> bases;
            for (int s = 0; s < opt_.shifts; ++s)
                bases.push_back(std::uniform_int_distribution<int64_t>(0, maxShift)(rng_) -
                                maxShift);
            if (opt_.shifts == 0) bases.push_back(0);
            for (int64_t base : bases) {
                Lane lane;
                lane.model = &model;
                lane.modelIndex = m;
                lane.base = base;
                lane.chunkLength = length_ - base;
                progress_.total += forwardsFor(model, lane.chunkLength);
                if (opt_.split) {
                    lane.segment = segmentLength(model);
                    lane.stride = strideFor(model);
                    // Triangular cross-fade weights, raised to the transition power.
                    const int64_t seg = lane.segment;
                    at::Tensor w = at::cat(
                        {at::arange(1, seg / 2 + 1, f32), at::arange(seg - seg / 2, 0, -1, f32)});
                    lane.weight = at::pow(w / w.max(), opt_.transitionPower);
                } else {  // the whole chunk in one forward: a weight of one changes nothing
                    lane.segment = lane.stride = lane.chunkLength;
                    lane.weight = at::ones({lane.chunkLength}, f32);
                }
                margin_ = std::max(margin_, validLength(model, lane.segment));
                lanes_.push_back(std::move(lane));
            }
        }
    }

    void report() {
        if (!callback_) return;
        progress_.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start_).count();
        progress_.etaSeconds = progress_.done ? progress_.elapsedSeconds / double(progress_.done) *
                                                    double(progress_.total - progress_.done)
                                              : -1;
        callback_(progress_);
    }

    // Runs the lane's next segments (up to a batch of the same padded length, as apply.py
    // groups them), adds them into its accumulator, and moves what is final to `ready`.
    void step(Lane& lane) {
        if (cancel_ && cancel_->cancelled()) throw Cancelled();
        const Model& model = *lane.model;
        std::vector<std::pair<int64_t, int64_t>> segments;  // chunk position, length
        int64_t valid = 0;
        for (int64_t pos = lane.next;
             pos < lane.chunkLength && int(segments.size()) < std::max(1, opt_.batchSize);
             pos += lane.stride) {
            const int64_t len = std::min(lane.segment, lane.chunkLength - pos);
            if (segments.empty())
                valid = validLength(model, len);
            else if (validLength(model, len) != valid)
                break;
            segments.emplace_back(pos, len);
        }
        std::vector<at::Tensor> inputs;
        for (const auto& [pos, len] : segments) {
            const int64_t from = lane.base + pos - (valid - len) / 2;
            inputs.push_back(input_.get(from, from + valid));
        }
        const int64_t B = input_.batch();
        at::Tensor out = model.forward(at::cat(inputs, 0).to(model.options()))
                             .to(at::TensorOptions().dtype(at::kFloat).device(at::kCPU));
        progress_.done += static_cast<int64_t>(segments.size());

        if (!lane.acc.defined()) {
            const int64_t span = std::min(
                lane.chunkLength, (std::max(1, opt_.batchSize) - 1) * lane.stride + lane.segment);
            lane.acc = at::zeros({B, out.size(1), out.size(2), span}, out.options());
            lane.weightSum = at::zeros({span}, out.options());
        }
        for (size_t i = 0; i < segments.size(); ++i) {
            const auto [pos, len] = segments[i];
            const at::Tensor o = centerTrim(out.slice(0, int64_t(i) * B, int64_t(i + 1) * B), len);
            const at::Tensor w = lane.weight.slice(0, 0, len);
            const int64_t offset = pos - lane.next;
            lane.acc.slice(-1, offset, offset + len).add_(o * w);
            lane.weightSum.slice(0, offset, offset + len).add_(w);
        }
        const int64_t next = segments.back().first + lane.stride;
        finalize(lane, std::min(next, lane.chunkLength));
        report();
    }

    // Chunk positions before `upTo` are final: their estimates move to `ready`, the
    // accumulator moves on.
    void finalize(Lane& lane, int64_t upTo) {
        const int64_t n = upTo - lane.next;
        const at::Tensor sum = lane.weightSum.slice(0, 0, n);
        if (sum.min().item<float>() <= 0) throw Error("internal: a sample got no segment weight");
        at::Tensor done = lane.acc.slice(-1, 0, n) / sum;
        // Only mix frames [0, length) are heard (apply.py drops the shift's lead-in).
        const int64_t first = lane.base + lane.next;
        if (first + n > 0) {
            const int64_t skip = std::max<int64_t>(0, -first);
            lane.ready.push_back(done.slice(-1, skip));
            lane.readyEnd = first + n;
        }
        lane.next = upTo;
        if (lane.done()) {
            lane.acc = lane.weightSum = at::Tensor();
            return;
        }
        at::Tensor acc = at::zeros_like(lane.acc), sums = at::zeros_like(lane.weightSum);
        const int64_t keep = lane.acc.size(-1) - n;
        acc.slice(-1, 0, keep).copy_(lane.acc.slice(-1, n));
        sums.slice(0, 0, keep).copy_(lane.weightSum.slice(0, n));
        lane.acc = acc;
        lane.weightSum = sums;
    }

    // Writes the frames every lane has finished: shifts summed in order and averaged, models
    // weighted per source and summed in bag order, as apply.py does on the whole song.
    void emit() {
        int64_t frontier = length_;
        for (const Lane& lane : lanes_)
            frontier = std::min(frontier, lane.readyEnd);
        const int64_t n = frontier - emitted_;
        if (n <= 0) return;
        const auto& weights = bag_.weights();
        const size_t sources = bag_.sources().size();
        at::Tensor estimates;
        std::vector<double> totals(sources, 0.0);
        for (size_t m = 0; m < bag_.models().size(); ++m) {
            at::Tensor out;
            for (Lane& lane : lanes_) {
                if (lane.modelIndex != m) continue;
                at::Tensor res = lane.take(n);
                out = out.defined() ? out + res : res;
            }
            if (opt_.shifts > 0) out = out / static_cast<double>(opt_.shifts);
            for (size_t k = 0; k < sources; ++k) {
                out.select(1, static_cast<int64_t>(k)).mul_(weights[m][k]);
                totals[k] += weights[m][k];
            }
            estimates = estimates.defined() ? estimates + out : out;
        }
        for (size_t k = 0; k < sources; ++k)
            estimates.select(1, static_cast<int64_t>(k)).div_(totals[k]);
        emitted_ = frontier;
        write_(estimates);
    }

    const Bag& bag_;
    int64_t length_;
    InputWindow input_;
    const EstimateWriter& write_;
    const ApplyOptions& opt_;
    const ProgressCallback& callback_;
    const CancelToken* cancel_;
    std::mt19937_64 rng_;
    std::vector<Lane> lanes_;
    int64_t margin_ = 0;  // input kept before a lane's next segment (its padding)
    int64_t emitted_ = 0;
    Progress progress_;
    Clock::time_point start_;
};

}  // namespace

void applyBagStreamed(const Bag& bag, int64_t length, const MixReader& read,
                      const EstimateWriter& write, const ApplyOptions& options,
                      const ProgressCallback& progress, const CancelToken* cancel) {
    if (length <= 0) throw Error("the mix is empty");
    checkApplyOptions(bag, options);
    // No autograd bookkeeping: views do not keep their bases alive, so layers can tell when a
    // tensor is theirs alone and overwrite it (layers.h, exclusive()).
    c10::InferenceMode inference;
    struct ReleaseCache {  // also when cancelled or failed
        ~ReleaseCache() { releaseCachedBlocks(); }
    } releaseCache;
    reportingFailures([&] {
        StreamRunner(bag, length, read, write, options, progress, cancel).run();
        return at::Tensor();
    });
}

}  // namespace msplit::engine
