#include "core/player/player.h"

#include <QAudioDevice>
#include <QAudioSink>
#include <QFutureWatcher>
#include <QMediaDevices>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include "core/audio/decoder.h"
#include "core/error.h"
#include "core/player/mixer_device.h"

namespace msplit {

Player::Player(QObject* parent) : QObject(parent) {
    tick_.setInterval(33);  // display rate
    connect(&tick_, &QTimer::timeout, this, [this] { Q_EMIT positionChanged(position()); });
}

Player::~Player() {
    stopSink();
}

void Player::load(const TrackFiles& track) {
    stop();
    const int generation = ++loadGeneration_;
    QPointer<Player> self(this);
    auto* watcher = new QFutureWatcher<void>(this);
    auto lanes = std::make_shared<Lanes>();
    auto names = std::make_shared<QStringList>();
    auto failure = std::make_shared<QString>();
    connect(watcher, &QFutureWatcher<void>::finished, this, [=] {
        watcher->deleteLater();
        if (generation != loadGeneration_) return;  // another song was chosen meanwhile
        if (!failure->isEmpty()) {
            Q_EMIT error(*failure);
            return;
        }
        setLanes(*names, *lanes);
        if (!names->isEmpty() && names->first() == tr("mix")) mixer_->setMute(0, true);
        Q_EMIT loaded();
    });
    watcher->setFuture(QtConcurrent::run([track, lanes, names, failure] {
        try {
            for (qsizetype i = 0; i < track.files.size(); ++i) {
                AudioBuffer b = decodeAudio(track.files[i].toStdString());
                if (track.gain != 1.0)
                    for (float& x : b.samples)
                        x = static_cast<float>(x / track.gain);
                lanes->push_back(std::make_shared<AudioBuffer>(std::move(b)));
                names->append(track.names.value(i));
            }
            try {  // the original, when it is still there
                if (track.original.isEmpty()) throw Error(ErrorKind::NotFound, "", "no original");
                lanes->insert(lanes->begin(), std::make_shared<AudioBuffer>(
                                                  decodeAudio(track.original.toStdString())));
                names->prepend(QObject::tr("mix"));
            } catch (const Error&) {
            }
        } catch (const Error& e) {
            *failure = QString::fromUtf8(e.what());
        }
    }));
}

void Player::setLanes(const QStringList& names, const Lanes& audio) {
    stop();
    stopSink();
    mixer_ = std::make_unique<Mixer>(44100);
    names_ = names;
    for (const auto& a : audio)
        mixer_->addLane(a);
    Q_EMIT positionChanged(0);
}

void Player::setLanes(const QStringList& names, const QList<AudioBuffer>& audio) {
    Lanes shared;
    for (const AudioBuffer& a : audio)
        shared.push_back(std::make_shared<AudioBuffer>(a));
    setLanes(names, shared);
}

void Player::stopSink() {
    if (sink_) {
        sink_->stop();
        delete sink_;
        sink_ = nullptr;
    }
    delete device_;
    device_ = nullptr;
}

void Player::play() {
    if (!mixer_ || playing_) return;
    if (mixer_->position() >= mixer_->length() && !mixer_->looping()) mixer_->seek(0);
    // The output the caller chose, else the system's default.
    QAudioDevice out = QMediaDevices::defaultAudioOutput();
    for (const QAudioDevice& d : QMediaDevices::audioOutputs())
        if (!outputId_.isEmpty() && d.id() == outputId_) out = d;
    if (out.isNull()) {
        outputError_ = tr("No audio output device: playback is not available");
        Q_EMIT error(outputError_);
        return;
    }
    outputError_.clear();
    if (!sink_) {
        format_.setSampleRate(mixer_->sampleRate());
        format_.setChannelCount(2);
        format_.setSampleFormat(QAudioFormat::Float);
        if (!out.isFormatSupported(format_)) format_.setSampleFormat(QAudioFormat::Int16);
        if (!out.isFormatSupported(format_)) {  // the device's own rate; MixerDevice converts
            format_.setSampleRate(out.preferredFormat().sampleRate());
            format_.setSampleFormat(QAudioFormat::Float);
            if (!out.isFormatSupported(format_)) format_.setSampleFormat(QAudioFormat::Int16);
        }
        sink_ = new QAudioSink(out, format_, this);
        sink_->setBufferSize(format_.bytesForDuration(100000));  // 100 ms: seeks feel immediate
        device_ = new MixerDevice(*mixer_, format_, this);
        connect(device_, &MixerDevice::ended, this, [this] {
            QMetaObject::invokeMethod(
                this, [this] { pause(); }, Qt::QueuedConnection);
        });
        sink_->start(device_);
    } else {
        sink_->resume();
    }
    playing_ = true;
    tick_.start();
    Q_EMIT playingChanged(true);
}

void Player::pause() {
    if (!playing_) return;
    const qint64 heard = position();
    stopSink();  // drop what is buffered: resuming starts exactly where it was heard
    if (mixer_) mixer_->seek(heard);
    playing_ = false;
    tick_.stop();
    Q_EMIT playingChanged(false);
    Q_EMIT positionChanged(heard);
}

void Player::stop() {
    pause();
    if (mixer_) mixer_->seek(0);
    Q_EMIT positionChanged(0);
}

void Player::seek(qint64 frame) {
    if (!mixer_) return;
    const bool was = playing_;
    if (was) {
        stopSink();
        playing_ = false;
    }
    mixer_->seek(frame);
    if (was) {
        tick_.stop();
        play();
    }
    Q_EMIT positionChanged(mixer_->position());
}

qint64 Player::position() const {
    if (!mixer_) return 0;
    qint64 pos = mixer_->position();
    if (sink_ && playing_) {
        const int bpf = format_.bytesPerFrame();
        const qint64 queued = bpf ? (sink_->bufferSize() - sink_->bytesFree()) / bpf : 0;
        pos = std::max<qint64>(0, pos - queued);
    }
    return pos;
}

}  // namespace msplit
