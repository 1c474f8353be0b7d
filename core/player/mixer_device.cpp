#include "core/player/mixer_device.h"

#include <algorithm>
#include <cstring>

namespace msplit {

MixerDevice::MixerDevice(Mixer& mixer, const QAudioFormat& format, QObject* parent)
    : QIODevice(parent), mixer_(mixer), format_(format) {
    open(QIODevice::ReadOnly |
         QIODevice::Unbuffered);  // no read-ahead: seeks and gains act at once
}

qint64 MixerDevice::readData(char* data, qint64 maxSize) {
    const int bpf = format_.bytesPerFrame();
    const qint64 frames = bpf > 0 ? maxSize / bpf : 0;
    if (frames <= 0) return 0;
    buffer_.resize(static_cast<size_t>(2 * frames));
    const int64_t got = mixer_.render(buffer_.data(), frames);
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
    if (got < frames) Q_EMIT ended();
    return got * bpf;
}

}  // namespace msplit
