#include "core/player/mixer_device.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cstring>

namespace msplit {

MixerDevice::MixerDevice(Mixer& mixer, const QAudioFormat& format, Stretcher* stretcher,
                         QObject* parent)
    : QIODevice(parent), mixer_(mixer), stretcher_(stretcher), format_(format) {
    // A device that cannot play the mixer's rate gets it converted here (libswresample).
    if (format.sampleRate() != mixer.sampleRate()) {
        AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
        SwrContext* ctx = nullptr;
        if (swr_alloc_set_opts2(&ctx, &stereo, AV_SAMPLE_FMT_FLT, format.sampleRate(), &stereo,
                                AV_SAMPLE_FMT_FLT, mixer.sampleRate(), 0, nullptr) >= 0 &&
            swr_init(ctx) >= 0)
            resampler_ = ctx;
        else
            swr_free(&ctx);
    }
    open(QIODevice::ReadOnly |
         QIODevice::Unbuffered);  // no read-ahead: seeks and gains act at once
}

MixerDevice::~MixerDevice() {
    SwrContext* ctx = resampler_;
    swr_free(&ctx);
}

int64_t MixerDevice::pull(float* out, int64_t frames) {
    Stretcher* const stretcher = stretcher_.load();
    if (stretcher && !stretching() && stretcher->active()) {
        stretcher->reset();  // from the mixer's position on
        stretching_ = true;
    }
    if (!stretching()) return mixer_.render(out, frames);
    planar_.resize(size_t(2 * frames));
    const int64_t n = stretcher->render(planar_.data(), frames, [this](float* in, int64_t want) {
        mixed_.resize(size_t(2 * want));
        const int64_t got = mixer_.render(mixed_.data(), want);
        for (int64_t i = 0; i < got; ++i) {
            in[i] = mixed_[size_t(2 * i)];
            in[want + i] = mixed_[size_t(2 * i + 1)];
        }
        return got;
    });
    for (int64_t i = 0; i < n; ++i) {
        out[2 * i] = planar_[size_t(i)];
        out[2 * i + 1] = planar_[size_t(frames + i)];
    }
    return n;
}

qint64 MixerDevice::readData(char* data, qint64 maxSize) {
    const int bpf = format_.bytesPerFrame();
    const qint64 frames = bpf > 0 ? maxSize / bpf : 0;
    if (frames <= 0) return 0;
    int64_t got = 0;
    if (resampler_) {
        // Render what the wanted output needs at the mixer's rate, convert, and flush at the end.
        const int64_t in =
            av_rescale_rnd(frames, mixer_.sampleRate(), format_.sampleRate(), AV_ROUND_DOWN);
        source_.resize(static_cast<size_t>(2 * std::max<int64_t>(in, 1)));
        const int64_t rendered = in > 0 ? pull(source_.data(), in) : 0;
        buffer_.resize(static_cast<size_t>(2 * frames));
        auto* out = reinterpret_cast<uint8_t*>(buffer_.data());
        const auto* src = reinterpret_cast<const uint8_t*>(source_.data());
        got = swr_convert(resampler_, &out, int(frames), rendered ? &src : nullptr, int(rendered));
        if (got < 0) got = 0;
        if (rendered == 0 && got == 0) Q_EMIT ended();
    } else {
        buffer_.resize(static_cast<size_t>(2 * frames));
        got = pull(buffer_.data(), frames);
        if (got < frames) Q_EMIT ended();
    }
    const int channels = format_.channelCount();
    for (int64_t i = 0; i < got; ++i)
        for (int c = 0; c < channels; ++c) {
            const float x = buffer_[static_cast<size_t>(2 * i + std::min(c, 1))];
            if (format_.sampleFormat() == QAudioFormat::Float) {
                reinterpret_cast<float*>(data)[i * channels + c] = x;
            } else {
                const float v = std::clamp(x, -1.0f, 1.0f) * 32767.0f;
                reinterpret_cast<qint16*>(data)[i * channels + c] = static_cast<qint16>(v);
            }
        }
    return got * bpf;
}

}  // namespace msplit
