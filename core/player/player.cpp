#include "core/player/player.h"

#include <QAudioDevice>
#include <QAudioSink>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QMediaDevices>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include "core/error.h"
#include "core/player/mixer_device.h"

namespace msplit {
namespace {

// A file lane: its peaks from the file kept beside it, when that is whole and fits the file.
Player::LaneSpec fileSpec(const QString& name, const QString& path, double scale,
                          const QString& peaksPath) {
    Player::LaneSpec spec;
    spec.name = name;
    auto peaks = std::make_shared<PeakCache>();
    int64_t frames = 0;
    if (!peaksPath.isEmpty() && peaks->load(peaksPath.toStdString())) {
        frames = peaks->frames();
        spec.peaks = peaks;
    }
    const std::string file = path.toStdString();
    spec.open = [file, scale, frames] { return fileLane(file, scale, frames); };
    spec.source = spec.open();  // throws Error naming the file
    return spec;
}

// Reads a lane from start to end for its peaks, and keeps them; stops when told.
void buildPeaks(LaneSource& source, PeakCache& peaks, const std::atomic<bool>& stop,
                const std::function<void()>& grew) {
    std::vector<float> stereo(2 * 65536), planar(2 * 65536);
    int blocks = 0;
    while (!stop) {
        const int64_t n = source.read(stereo.data(), 65536);
        if (n == 0) break;
        for (int64_t i = 0; i < n; ++i) {
            planar[size_t(i)] = stereo[size_t(2 * i)];
            planar[size_t(n + i)] = stereo[size_t(2 * i + 1)];
        }
        peaks.append(planar.data(), 2, n);
        if (++blocks % 16 == 0) grew();
    }
    if (!stop) peaks.finish();
    grew();
}

}  // namespace

Player::Player(QObject* parent) : QObject(parent) {
    tick_.setInterval(33);  // display rate
    connect(&tick_, &QTimer::timeout, this, [this] { Q_EMIT positionChanged(position()); });
}

Player::~Player() {
    if (stopBuilds_) *stopBuilds_ = true;
    stopSink();
}

void Player::load(const TrackFiles& track) {
    stop();
    const int generation = ++loadGeneration_;
    auto* watcher = new QFutureWatcher<void>(this);
    auto lanes = std::make_shared<std::vector<LaneSpec>>();
    auto failure = std::make_shared<QString>();
    connect(watcher, &QFutureWatcher<void>::finished, this, [=] {
        watcher->deleteLater();
        if (generation != loadGeneration_) return;  // another song was chosen meanwhile
        if (!failure->isEmpty()) {
            Q_EMIT error(*failure);
            return;
        }
        install(std::move(*lanes), true);
        if (!names_.isEmpty() && names_.first() == tr("mix")) mixer_->setMute(0, true);
        Q_EMIT loaded();
    });
    // Opening is quick (no audio is decoded), but off the UI thread all the same: a file on a
    // slow disk must not freeze the window.
    watcher->setFuture(QtConcurrent::run([track, lanes, failure] {
        try {
            for (qsizetype i = 0; i < track.files.size(); ++i)
                lanes->push_back(fileSpec(track.names.value(i), track.files[i], 1.0 / track.gain,
                                          track.peaks.value(i)));
            try {  // the original, when it is still there
                if (track.original.isEmpty()) throw Error(ErrorKind::NotFound, "", "no original");
                lanes->insert(lanes->begin(), fileSpec(QObject::tr("mix"), track.original, 1.0,
                                                       track.originalPeaks));
            } catch (const Error&) {
            }
        } catch (const Error& e) {
            *failure = QString::fromUtf8(e.what());
        }
    }));
    // Where the peaks that must be made go, by lane name.
    pendingPeakFiles_.clear();
    for (qsizetype i = 0; i < track.files.size(); ++i)
        pendingPeakFiles_[track.names.value(i)] = track.peaks.value(i);
    pendingPeakFiles_[tr("mix")] = track.originalPeaks;
}

void Player::loadLive(std::shared_ptr<const LiveSong> song) {
    stop();
    ++loadGeneration_;
    pendingPeakFiles_.clear();
    std::vector<LaneSpec> lanes;
    try {
        LaneSpec mix;
        mix.name = tr("mix");
        const std::string source = song->source.toStdString();
        const int64_t frames = song->mixPeaks ? song->mixPeaks->frames() : 0;
        mix.open = [source, frames] { return fileLane(source, 1.0, frames); };
        mix.source = mix.open();
        mix.peaks = song->mixPeaks;
        lanes.push_back(std::move(mix));
    } catch (const Error&) {  // the original went away: the stems alone
    }
    for (size_t k = 0; k < song->spools.size(); ++k) {
        LaneSpec stem;
        stem.name = song->stems.value(int(k));
        auto spool = song->spools[k];
        const int64_t frames = song->frames;
        stem.open = [spool, frames] { return spoolLane(spool, frames); };
        stem.source = stem.open();
        stem.peaks = song->peaks[k];
        lanes.push_back(std::move(stem));
    }
    live_ = song;
    install(std::move(lanes), true);
    if (!names_.isEmpty() && names_.first() == tr("mix")) mixer_->setMute(0, true);
    Q_EMIT loaded();
}

void Player::setLanes(const QStringList& names, const Lanes& audio) {
    std::vector<LaneSpec> lanes;
    for (int i = 0; i < names.size(); ++i) {
        LaneSpec spec;
        spec.name = names[i];
        spec.audio = audio[size_t(i)];
        spec.peaks = peaksOf(*spec.audio);
        lanes.push_back(std::move(spec));
    }
    ++loadGeneration_;
    pendingPeakFiles_.clear();
    install(std::move(lanes));
}

void Player::setLanes(const QStringList& names, const QList<AudioBuffer>& audio) {
    Lanes shared;
    for (const AudioBuffer& a : audio)
        shared.push_back(std::make_shared<AudioBuffer>(a));
    setLanes(names, shared);
}

void Player::install(std::vector<LaneSpec> lanes, bool withClick) {
    stop();
    stopSink();
    if (stopBuilds_) *stopBuilds_ = true;  // the peaks of the previous song are not needed now
    stopBuilds_ = std::make_shared<std::atomic<bool>>(false);
    mixer_ = std::make_unique<Mixer>(44100);
    names_.clear();
    lanes_ = std::move(lanes);
    for (auto& lane : lanes_) {
        names_ << lane.name;
        if (lane.source)
            mixer_->addLane(std::move(lane.source));
        else
            mixer_->addLane(lane.audio);
        if (lane.peaks || !lane.open) continue;
        // No peaks kept for this file: read it once in the background, drawn as they come, and
        // keep them for the next time.
        auto peaks = std::make_shared<PeakCache>(mixer_->length() + 44100);
        lane.peaks = peaks;
        const std::string keep = pendingPeakFiles_.value(lane.name).toStdString();
        QPointer<Player> self(this);
        auto stop = stopBuilds_;
        auto open = lane.open;
        (void)QtConcurrent::run([self, peaks, stop, open, keep] {
            try {
                auto source = open();
                buildPeaks(*source, *peaks, *stop, [self] {
                    // The player is looked at on its own thread only (it may be gone by then).
                    QMetaObject::invokeMethod(
                        QCoreApplication::instance(),
                        [self] {
                            if (self) Q_EMIT self->peaksGrew();
                        },
                        Qt::QueuedConnection);
                });
                if (peaks->finished() && !keep.empty()) {
                    QDir().mkpath(QFileInfo(QString::fromStdString(keep)).absolutePath());
                    peaks->save(keep);
                }
            } catch (const Error&) {  // unreadable now or unwritable cache: drawn as far as read
            }
        });
    }
    clickLane_ = -1;
    if (withClick && mixer_->length() > 0) {
        clickBeats_ = std::make_shared<ClickBeats>();
        LaneSpec click;
        click.name = tr("click");
        auto none = std::make_shared<PeakCache>();  // nothing to draw: the ruler has the beats
        none->finish();
        click.peaks = none;
        lanes_.push_back(std::move(click));
        names_ << tr("click");
        clickLane_ = mixer_->addLane(msplit::clickLane(clickBeats_, mixer_->length()));
        mixer_->setMute(clickLane_, true);
    }
    Q_EMIT positionChanged(0);
}

void Player::setBeats(std::vector<int64_t> frames, int beatsPerBar) {
    if (clickBeats_) clickBeats_->set(std::move(frames), beatsPerBar);
}

int64_t Player::beatInterval() const {
    const int rate = mixer_ ? mixer_->sampleRate() : 44100;
    std::vector<int64_t> gaps;
    if (clickBeats_) {
        const auto grid = clickBeats_->get();
        for (size_t i = 1; i < grid->frames.size(); ++i)
            gaps.push_back(grid->frames[i] - grid->frames[i - 1]);
    }
    if (gaps.empty()) return rate / 2;
    std::nth_element(gaps.begin(), gaps.begin() + long(gaps.size() / 2), gaps.end());
    return std::max<int64_t>(gaps[gaps.size() / 2], rate / 10);
}

std::shared_ptr<const PeakCache> Player::peaks(int lane) const {
    return lane >= 0 && lane < int(lanes_.size()) ? lanes_[size_t(lane)].peaks : nullptr;
}

int64_t Player::readMono(int lane, int64_t from, int64_t n, float* out) {
    if (lane < 0 || lane >= int(lanes_.size()) || from < 0 || n <= 0) return 0;
    LaneSpec& l = lanes_[size_t(lane)];
    if (l.audio) {
        const AudioBuffer& a = *l.audio;
        const int64_t got = std::clamp<int64_t>(a.frames() - from, 0, n);
        for (int64_t i = 0; i < got; ++i) {
            float x = 0;
            for (int c = 0; c < a.channels; ++c)
                x += a.channel(c)[from + i];
            out[i] = x / float(a.channels);
        }
        return got;
    }
    if (!l.open) return 0;  // the metronome: nothing to draw
    try {
        if (!l.view) l.view = l.open();
        if (l.viewPos != from) l.view->seek(from);
        std::vector<float> stereo(size_t(2 * n));
        int64_t got = 0;
        while (got < n) {
            const int64_t k = l.view->read(stereo.data() + 2 * got, n - got);
            if (k == 0) break;
            got += k;
        }
        for (int64_t i = 0; i < got; ++i)
            out[i] = 0.5f * (stereo[size_t(2 * i)] + stereo[size_t(2 * i + 1)]);
        l.viewPos = from + got;
        return got;
    } catch (const Error&) {
        l.view.reset();
        return 0;
    }
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
    if (countIn_ > 0) mixer_->countIn(countIn_, beatInterval());
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
        device_ = new MixerDevice(*mixer_, format_, stretcher_.get(), this);
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
    if (mixer_) {
        mixer_->countIn(0, 1);  // a count-in cut short is not finished on the next play
        mixer_->seek(heard);
    }
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
    // During a count-in the song has not started: what is queued is clicks.
    if (!sink_ || !playing_ || mixer_->countingIn()) return mixer_->position();
    const int bpf = format_.bytesPerFrame();
    const qint64 queued = bpf ? (sink_->bufferSize() - sink_->bytesFree()) / bpf : 0;
    const auto [loopStart, loopEnd] = mixer_->loop();
    const bool stretching = device_ && device_->stretching();
    return heardPosition(mixer_->position(), queued, format_.sampleRate(), mixer_->sampleRate(),
                         loopStart, loopEnd, stretching ? stretcher_->tempo() : 1.0,
                         stretching ? stretcher_->pending() : 0);
}

void Player::makeStretcher() {
    if (stretcher_ || makingStretcher_) return;
    makingStretcher_ = true;
    // Shared, so that a result the Player no longer waits for is freed with its future.
    using Made = std::shared_ptr<Stretcher>;
    auto* watcher = new QFutureWatcher<Made>(this);
    connect(watcher, &QFutureWatcher<Made>::finished, this, [this, watcher] {
        watcher->deleteLater();
        stretcher_ = watcher->result();
        makingStretcher_ = false;
        stretcher_->setTempo(tempo_);
        stretcher_->setSemitones(semitones_);
        if (device_) device_->setStretcher(stretcher_.get());  // playing: heard from now on
    });
    watcher->setFuture(QtConcurrent::run([] { return std::make_shared<Stretcher>(44100, 2); }));
}

void Player::setTempo(double tempo) {
    tempo_ = std::clamp(tempo, Stretcher::kMinTempo, Stretcher::kMaxTempo);
    if (stretcher_)
        stretcher_->setTempo(tempo_);
    else
        makeStretcher();
}

void Player::setSemitones(double semitones) {
    semitones_ = std::clamp(semitones, -Stretcher::kMaxSemitones, Stretcher::kMaxSemitones);
    if (stretcher_)
        stretcher_->setSemitones(semitones_);
    else
        makeStretcher();
}

int64_t heardPosition(int64_t rendered, int64_t queued, int deviceRate, int mixerRate,
                      int64_t loopStart, int64_t loopEnd, double tempo, int64_t inStretcher) {
    // What waits in the device's buffer is in its own rate; the mixer counts in the song's.
    if (deviceRate > 0 && deviceRate != mixerRate) queued = queued * mixerRate / deviceRate;
    queued = int64_t(double(queued) * tempo) + inStretcher;
    int64_t pos = rendered - queued;
    // Just after a wrap, what is heard is still the end of the loop.
    if (loopEnd > loopStart && rendered >= loopStart && pos < loopStart)
        pos = loopEnd - (loopStart - pos);
    return std::max<int64_t>(0, pos);
}

}  // namespace msplit
