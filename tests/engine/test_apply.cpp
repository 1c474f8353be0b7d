// apply.cpp's behaviour beyond the reference cases: shifts, batching, segments, progress,
// cancellation and bags.
#include <c10/core/GradMode.h>

#include <random>

#include <QTemporaryDir>
#include <QtTest>

#include "core/engine/apply.h"
#include "core/engine/device.h"
#include "core/engine/error.h"
#include "core/engine/model_loader.h"
#include "core/engine/npy.h"
#include "core/engine/stream.h"
#include "tests/common/fixtures.h"

using namespace msplit;

namespace {

const char* kTinyModel = "/91f11081-2942f0c2.th";  // htdemucs_tiny, 4 sources, 39/5 s segment

std::shared_ptr<engine::Model> tiny() {
    return engine::loadModel((test::repoDir() + kTinyModel).toStdString());
}

at::Tensor tinyMix() {
    return engine::readNpy((test::caseDir("htdemucs_tiny") + "/input.npy").toStdString());
}

bool throwsEngineError(const std::function<void()>& f, const QString& fragment) {
    try {
        f();
    } catch (const engine::Error& e) {
        if (QString(e.what()).contains(fragment)) return true;
        qWarning("unexpected message: %s", e.what());
    }
    return false;
}

}  // namespace

class TestApply : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { engine::setThreads(0); }

    void shiftsAreSeededAndAveraged() {
        engine::Bag bag({tiny()});
        const at::Tensor mix = tinyMix().slice(1, 0, 44100 * 3).unsqueeze(0);
        engine::ApplyOptions opt;
        opt.split = false;  // one forward per shift: the manual version below sees the same zeros
        opt.shifts = 2;
        opt.seed = 42;
        const at::Tensor a = engine::applyBag(bag, mix, opt);
        QVERIFY(at::equal(a, engine::applyBag(bag, mix, opt)));  // same seed, same result
        opt.seed = 43;
        QVERIFY(!at::equal(a, engine::applyBag(bag, mix, opt)));

        // The same average built by hand: the seed's offsets into the mix padded by 0.5 s each
        // side, each result trimmed back to the mix.
        std::mt19937_64 rng(42);
        const int64_t maxShift = 44100 / 2, length = mix.size(-1);
        const at::Tensor padded = at::constant_pad_nd(mix, {maxShift, maxShift});
        opt.shifts = 0;
        at::Tensor expected = at::zeros_like(a);
        for (int s = 0; s < 2; ++s) {
            const int64_t offset = std::uniform_int_distribution<int64_t>(0, maxShift)(rng);
            const at::Tensor res =
                engine::applyBag(bag, padded.slice(-1, offset, length + maxShift), opt);
            expected += res.slice(-1, maxShift - offset, maxShift - offset + length);
        }
        expected /= 2;
        const double rel = test::relativeError(a, expected);
        QVERIFY2(rel < 1e-5, qPrintable(QString::number(rel)));
        // ...and it is not the unshifted estimate.
        QVERIFY(test::relativeError(a, engine::applyBag(bag, mix, opt)) > 1e-3);
    }

    // The overlap-add over many segments, written out here the plain way (apply.py's loop over
    // the whole song), equals the engine's streamed one sample for sample.
    void overlapAddMatchesThePlainLoop() {
        auto model = tiny();
        engine::Bag bag({model});
        const at::Tensor mix = at::cat({tinyMix(), tinyMix(), tinyMix(), tinyMix()}, -1)
                                   .slice(-1, 0, 44100 * 15)
                                   .unsqueeze(0);  // 15 s: three 7.8 s segments
        engine::ApplyOptions opt;
        opt.shifts = 0;
        opt.overlap = 0.3;
        const at::Tensor got = engine::applyBag(bag, mix, opt);

        const int64_t length = mix.size(-1), segment = model->segment().samples(44100);
        const auto stride = static_cast<int64_t>((1 - opt.overlap) * double(segment));
        at::Tensor weight = at::cat({at::arange(1, segment / 2 + 1, at::kFloat),
                                     at::arange(segment - segment / 2, 0, -1, at::kFloat)});
        weight = weight / weight.max();
        at::Tensor out = at::zeros({1, 4, 2, length}), sum = at::zeros({length});
        c10::NoGradGuard noGrad;
        for (int64_t offset = 0; offset < length; offset += stride) {
            const int64_t len = std::min(segment, length - offset);
            const int64_t valid = model->validLength(len), delta = valid - len;
            const int64_t start = offset - delta / 2, end = start + valid;
            const int64_t cs = std::max<int64_t>(0, start), ce = std::min(length, end);
            const at::Tensor input =
                at::constant_pad_nd(mix.slice(-1, cs, ce), {cs - start, end - ce});
            at::Tensor res = model->forward(input);
            const int64_t trim = res.size(-1) - len;
            res = res.slice(-1, trim / 2, res.size(-1) - (trim - trim / 2));
            out.slice(-1, offset, offset + len).add_(res * weight.slice(0, 0, len));
            sum.slice(0, offset, offset + len).add_(weight.slice(0, 0, len));
        }
        QVERIFY(at::equal(got, out / sum));
    }

    // However the song is read (any block sizes), the estimates are the same, and they start
    // leaving before the song has been read: memory follows the segment, not the song.
    void streamedInAnyPiecesGivesTheSameEstimates() {
        engine::Bag bag({tiny(), tiny()}, {{1, 0.5, 1, 0}, {0, 0.5, 1, 1}});
        const at::Tensor mix = at::cat({tinyMix(), tinyMix() * 0.5, tinyMix(), tinyMix() * 0.7}, -1)
                                   .slice(-1, 0, 44100 * 15)
                                   .unsqueeze(0);  // 15 s: 3 segments a model
        engine::ApplyOptions opt;
        opt.shifts = 1;
        opt.seed = 7;
        opt.overlap = 0.3;
        const at::Tensor whole = engine::applyBag(bag, mix, opt);
        const int64_t length = mix.size(-1);
        std::mt19937 rng(1);
        int64_t read = 0, written = 0, readAtFirstWrite = -1;
        std::vector<at::Tensor> parts;
        engine::applyBagStreamed(
            bag, length,
            [&](int64_t max) {
                const int64_t n =
                    std::min(max, std::uniform_int_distribution<int64_t>(1, 40000)(rng));
                at::Tensor block = mix.slice(-1, read, read + n);
                read += n;
                return block;
            },
            [&](const at::Tensor& estimates) {
                if (readAtFirstWrite < 0) readAtFirstWrite = read;
                parts.push_back(estimates.clone());
                written += estimates.size(-1);
            },
            opt);
        QCOMPARE(read, length);
        QCOMPARE(written, length);
        QVERIFY(at::equal(at::cat(parts, -1), whole));
        // A first segment (7.8 s), its shift and padding, and one read ahead are enough.
        QVERIFY2(readAtFirstWrite < 44100 * 11, qPrintable(QString::number(readAtFirstWrite)));
        QVERIFY(parts.size() > 2);
    }

    // The facade's stream: the song read twice (statistics, then audio) in odd blocks gives
    // the stems of the whole-buffer call, sample for sample.
    void facadeStreamEqualsWholeBuffer() {
        engine::ModelSpec spec;
        spec.files = {(test::repoDir() + kTinyModel).toStdString()};
        const auto separator = engine::Separator::load(spec);
        const at::Tensor mix = at::cat({tinyMix(), tinyMix() * 0.3, tinyMix()}, -1).contiguous();
        const int64_t frames = mix.size(-1);
        engine::SeparateOptions opt = engine::defaultOptions();
        opt.seed = 3;
        const auto whole = separator->separate(mix.data_ptr<float>(), frames, opt);

        engine::MixStatistics stats;
        for (int64_t pos = 0; pos < frames; pos += 12345) {
            const at::Tensor block = mix.slice(-1, pos, pos + 12345).contiguous();
            stats.add(block.data_ptr<float>(), 2, block.size(-1));
        }
        QCOMPARE(stats.frames(), frames);
        int64_t read = 0, written = 0;
        std::vector<std::vector<float>> streamed(separator->sources().size(),
                                                 std::vector<float>(size_t(2 * frames)));
        separator->separate(
            stats,
            [&](float* planar, int64_t max) {
                const int64_t n = std::min<int64_t>({max, 7777, frames - read});
                const at::Tensor block = mix.slice(-1, read, read + n).contiguous();
                std::copy_n(block.data_ptr<float>(), 2 * n, planar);
                read += n;
                return n;
            },
            [&](const float* stems, int64_t n) {
                for (size_t s = 0; s < streamed.size(); ++s)
                    for (int64_t c = 0; c < 2; ++c)
                        std::copy_n(stems + (int64_t(s) * 2 + c) * n, n,
                                    streamed[s].data() + c * frames + written);
                written += n;
            },
            opt);
        QCOMPARE(read, frames);
        QCOMPARE(written, frames);
        for (size_t s = 0; s < streamed.size(); ++s)
            QVERIFY(streamed[s] == whole[s]);
    }

    void deviceSettingsMeaningAGpu() {
        QVERIFY(!engine::meansGpu("cpu"));
        QVERIFY(engine::meansGpu("cuda"));
        QVERIFY(engine::meansGpu("cuda:1"));
        QCOMPARE(engine::meansGpu("auto"), engine::cudaAvailable());
        QCOMPARE(engine::meansGpu(""), engine::cudaAvailable());
    }

    void batchingDoesNotChangeTheResult() {
        engine::Bag bag({tiny()});
        at::Tensor mix = tinyMix();
        engine::ApplyOptions opt;
        opt.shifts = 0;
        at::Tensor one = engine::separate(bag, mix, opt);
        opt.batchSize = 4;
        at::Tensor four = engine::separate(bag, mix, opt);
        QVERIFY(test::relativeError(four, one) < 1e-5);
    }

    // The separation runs in LibTorch's inference mode; what it returns is an ordinary tensor
    // that callers may change in place (LibTorch refuses that for inference tensors).
    void theResultCanBeChangedInPlace() {
        engine::Bag bag({tiny()});
        at::Tensor mix = tinyMix();
        at::Tensor out = engine::separate(bag, mix, {});
        QVERIFY(!out.is_inference());
        const double before = out.abs().sum().item<double>();
        out.mul_(2.0);
        QCOMPARE(out.abs().sum().item<double>(), 2.0 * before);
    }

    void progressIsReportedPerSegment() {
        engine::Bag bag({tiny()});
        at::Tensor mix = tinyMix();  // 9 s: 2 segments of 7.8 s with 25% overlap
        engine::ApplyOptions opt;
        opt.shifts = 0;
        std::vector<engine::Progress> seen;
        engine::separate(bag, mix, opt, [&](const engine::Progress& p) { seen.push_back(p); });
        QCOMPARE(seen.size(), size_t(3));  // start, then once per segment
        QCOMPARE(seen.front().done, int64_t(0));
        QCOMPARE(seen.back().done, int64_t(2));
        QCOMPARE(seen.back().total, int64_t(2));
        QCOMPARE(seen.back().fraction(), 1.0);
        QVERIFY(seen[1].etaSeconds >= 0);
    }

    void cancellationStopsBetweenSegments() {
        engine::Bag bag({tiny()});
        engine::CancelToken token;
        int forwards = 0;
        engine::ApplyOptions opt;
        opt.shifts = 0;
        bool cancelled = false;
        try {
            engine::separate(
                bag, tinyMix(), opt,
                [&](const engine::Progress& p) {
                    forwards = static_cast<int>(p.done);
                    if (p.done == 1) token.cancel();
                },
                &token);
        } catch (const engine::Cancelled&) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        QCOMPARE(forwards, 1);
    }

    // A mix whose buffers cannot exist: 2^46 samples (a zero-stride view of two), so the first
    // buffer of its length is 256 TiB, beyond any address space. The separation must end with the
    // engine's Error, not std::bad_alloc or LibTorch's own exception.
    void exhaustedMemoryIsAClearError() {
        engine::Bag bag({tiny()});
        const at::Tensor huge = at::zeros({2, 1}).expand({2, int64_t(1) << 46});
        QVERIFY(throwsEngineError([&] { engine::separate(bag, huge, {}); }, "not enough memory"));
        at::Tensor mix = tinyMix();  // and the next separation works
        engine::ApplyOptions opt;
        opt.shifts = 0;
        QCOMPARE(engine::separate(bag, mix, opt).size(-1), mix.size(-1));
    }

    // A mix on another device than the model's (here LibTorch's meta device, which has no data):
    // LibTorch throws its own c10::Error, which must reach front ends as the engine's Error.
    void libTorchFailuresAreEngineErrors() {
        engine::Bag bag({tiny()});
        const at::Tensor elsewhere = at::zeros({2, 44100}, at::TensorOptions().device(at::kMeta));
        QVERIFY(throwsEngineError([&] { engine::separate(bag, elsewhere, {}); },
                                  "the separation failed in LibTorch: "));
    }

    void shorterSegmentIsAllowedLongerRefused() {
        engine::Bag bag({tiny()});
        at::Tensor mix = tinyMix();
        engine::ApplyOptions opt;
        opt.shifts = 0;
        opt.segment = 4.0;
        at::Tensor shortSeg = engine::separate(bag, mix, opt);
        QCOMPARE(shortSeg.size(-1), mix.size(-1));
        QVERIFY(shortSeg.isfinite().all().item<bool>());
        opt.segment = 10.0;
        QVERIFY(throwsEngineError([&] { engine::separate(bag, mix, opt); }, "longer segment"));
    }

    void badOptionsAreRefused() {
        engine::Bag bag({tiny()});
        at::Tensor mix = tinyMix();
        engine::ApplyOptions opt;
        opt.overlap = 1.0;
        QVERIFY(throwsEngineError([&] { engine::separate(bag, mix, opt); }, "overlap"));
        opt = {};
        QVERIFY(
            throwsEngineError([&] { engine::separate(bag, mix.slice(0, 0, 1), opt); }, "channels"));
        QVERIFY(throwsEngineError(
            [&] {
                engine::Bag({tiny()}, {{1, 0, 0}});
            },
            "one weight per source"));
        QVERIFY(throwsEngineError(
            [&] {
                engine::Bag({tiny(), tiny()}, {{1, 0, 0, 0}, {1, 0, 0, 0}});
            },
            "sum to zero"));
    }

    void bagWeightsSelectSources() {
        // Two copies of a model with one-hot weights give the same result as the model alone.
        engine::ApplyOptions opt;
        opt.shifts = 0;
        at::Tensor mix = tinyMix().slice(1, 0, 44100 * 2);
        at::Tensor single = engine::separate(engine::Bag({tiny()}), mix, opt);
        at::Tensor bag =
            engine::separate(engine::Bag({tiny(), tiny()}, {{1, 0, 1, 0}, {0, 1, 0, 1}}), mix, opt);
        QVERIFY(test::relativeError(bag, single) < 1e-6);
    }

    void bagSegmentOverride() {
        // A bag's segment shortens a transformer model's segment but never lengthens it.
        auto m = tiny();
        engine::Bag shorter({m}, {}, engine::Segment::fromSeconds(5.0));
        QCOMPARE(m->segment().seconds, 5.0);
        auto m2 = tiny();
        engine::Bag longer({m2}, {}, engine::Segment::fromSeconds(20.0));
        QCOMPARE(m2->segment().samples(44100), int64_t(343980));
    }
};

QTEST_GUILESS_MAIN(TestApply)
#include "test_apply.moc"
