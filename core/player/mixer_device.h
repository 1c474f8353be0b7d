#pragma once
// The mixer as a QIODevice that a QAudioSink pulls from (Qt Multimedia's pull mode), converting
// its float stereo to the sink's sample format. With a stretcher whose tempo or pitch is not
// neutral, the mix goes through it first (once set off neutral, until the device is replaced,
// so the sound never jumps by the stretcher's delay).
#include <QAudioFormat>
#include <QIODevice>

#include <atomic>
#include <vector>

struct SwrContext;

#include "core/player/mixer.h"
#include "core/practice/stretcher.h"

namespace msplit {

class MixerDevice : public QIODevice {
    Q_OBJECT
public:
    MixerDevice(Mixer& mixer, const QAudioFormat& format, Stretcher* stretcher = nullptr,
                QObject* parent = nullptr);
    ~MixerDevice() override;
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return 1 << 16; }
    // Whether the sound goes through the stretcher now (its delay counts for the playhead).
    bool stretching() const { return stretching_.load(std::memory_order_relaxed); }
    // A stretcher made after the device (it is made off the UI thread): used from the next pull.
    // It must outlive the device.
    void setStretcher(Stretcher* stretcher) { stretcher_.store(stretcher); }

Q_SIGNALS:
    void ended();  // the mixer reached the end of the song

protected:
    qint64 readData(char* data, qint64 maxSize) override;
    qint64 writeData(const char*, qint64) override { return -1; }

private:
    int64_t pull(float* interleaved, int64_t frames);  // the mix, stretched when it must be
    Mixer& mixer_;
    std::atomic<Stretcher*> stretcher_;
    std::atomic<bool> stretching_{false};
    std::vector<float> planar_, mixed_;
    QAudioFormat format_;
    std::vector<float> buffer_, source_;
    SwrContext* resampler_ = nullptr;  // when the device's rate is not the mixer's
};

}  // namespace msplit
