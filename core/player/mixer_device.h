#pragma once
// The mixer as a QIODevice that a QAudioSink pulls from (Qt Multimedia's pull mode), converting
// its float stereo to the sink's sample format.
#include <QAudioFormat>
#include <QIODevice>

#include <vector>

struct SwrContext;

#include "core/player/mixer.h"

namespace msplit {

class MixerDevice : public QIODevice {
    Q_OBJECT
public:
    MixerDevice(Mixer& mixer, const QAudioFormat& format, QObject* parent = nullptr);
    ~MixerDevice() override;
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return 1 << 16; }

Q_SIGNALS:
    void ended();  // the mixer reached the end of the song

protected:
    qint64 readData(char* data, qint64 maxSize) override;
    qint64 writeData(const char*, qint64) override { return -1; }

private:
    Mixer& mixer_;
    QAudioFormat format_;
    std::vector<float> buffer_, source_;
    SwrContext* resampler_ = nullptr;  // when the device's rate is not the mixer's
};

}  // namespace msplit
