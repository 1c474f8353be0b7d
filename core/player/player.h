#pragma once
// Synchronized playback of a result's stems: one Mixer, one QAudioSink in pull mode, so stems share
// one clock and never drift. The playhead follows what the sink has actually played.
#include <QAudioFormat>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <memory>

#include "core/player/mixer.h"

class QAudioSink;

namespace msplit {

class MixerDevice;

// What load() plays: stem files, and the original mix as a first lane that starts muted.
struct TrackFiles {
    QStringList names;  // one per file
    QStringList files;
    double gain = 1;   // the stems were scaled by this when written; playback undoes it
    QString original;  // the song itself; skipped when it cannot be read
};

class Player : public QObject {
    Q_OBJECT
public:
    explicit Player(QObject* parent = nullptr);
    ~Player() override;

    // Decodes the files off the UI thread; `loaded` or `error` follows.
    void load(const TrackFiles& track);
    // The audio output to play on (a QAudioDevice id); empty or unknown: the system's default.
    void setOutputDevice(const QByteArray& id) { outputId_ = id; }
    // Replaces the lanes directly (tests, and callers that already hold the audio).
    using Lanes = std::vector<std::shared_ptr<const AudioBuffer>>;
    void setLanes(const QStringList& names, const Lanes& audio);
    void setLanes(const QStringList& names, const QList<AudioBuffer>& audio);  // copies
    Mixer* mixer() { return mixer_.get(); }
    std::shared_ptr<const AudioBuffer> laneAudio(int lane) const {
        return mixer_ ? mixer_->laneAudio(lane) : nullptr;
    }
    const QStringList& laneNames() const { return names_; }

    void play();
    void pause();
    void stop();  // pause and back to the start
    void seek(qint64 frame);
    bool playing() const { return playing_; }
    // The frame being heard now (the mixer's position minus what waits in the sink's buffer).
    qint64 position() const;
    qint64 length() const { return mixer_ ? mixer_->length() : 0; }
    // Why there is no sound, when there is none (no audio device); empty otherwise.
    QString outputError() const { return outputError_; }

Q_SIGNALS:
    void loaded();
    void error(const QString& message);
    void positionChanged(qint64 frame);  // at display rate while playing, and on seeks
    void playingChanged(bool playing);

private:
    void stopSink();
    std::unique_ptr<Mixer> mixer_;
    QStringList names_;
    QAudioSink* sink_ = nullptr;
    MixerDevice* device_ = nullptr;
    QAudioFormat format_;
    QTimer tick_;
    bool playing_ = false;
    QString outputError_;
    QByteArray outputId_;
    int loadGeneration_ = 0;
};

}  // namespace msplit
