#pragma once
// Synchronized playback of a result's stems: one Mixer, one QAudioSink in pull mode, so stems share
// one clock and never drift. The playhead follows what the sink has actually played. Stems are read
// from disk as they play (nothing is decoded up front), so a song of any length opens at once;
// their waveform peaks come from the files kept beside them, or are made once in the background.
#include <QAudioFormat>
#include <QMap>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>

#include "core/audio/live_song.h"
#include "core/audio/peaks.h"
#include "core/player/click_lane.h"
#include "core/player/mixer.h"
#include "core/practice/stretcher.h"

class QAudioSink;

namespace msplit {

class MixerDevice;

// What load() plays: stem files, and the original mix as a first lane that starts muted.
struct TrackFiles {
    QStringList names;  // one per file
    QStringList files;
    double gain = 1;        // the stems were scaled by this when written; playback undoes it
    QString original;       // the song itself; skipped when it cannot be read
    QStringList peaks;      // where each file's waveform peaks are kept (optional)
    QString originalPeaks;  // the same for the original
};

class Player : public QObject {
    Q_OBJECT
public:
    explicit Player(QObject* parent = nullptr);
    ~Player() override;

    // Opens the files off the UI thread; `loaded` or `error` follows.
    void load(const TrackFiles& track);
    // A separation still running: its stems play as far as they are separated.
    void loadLive(std::shared_ptr<const LiveSong> song);
    // The audio output to play on (a QAudioDevice id); empty or unknown: the system's default.
    void setOutputDevice(const QByteArray& id) { outputId_ = id; }
    // Replaces the lanes with audio in memory (tests, and callers that already hold the audio).
    using Lanes = std::vector<std::shared_ptr<const AudioBuffer>>;
    void setLanes(const QStringList& names, const Lanes& audio);
    void setLanes(const QStringList& names, const QList<AudioBuffer>& audio);  // copies
    Mixer* mixer() { return mixer_.get(); }
    const Mixer* mixer() const { return mixer_.get(); }
    const QStringList& laneNames() const { return names_; }
    // The metronome: a lane named "click" after the stems of a loaded song (muted at first),
    // clicking on these beats (song frames); set when the song's beats are known.
    void setBeats(std::vector<int64_t> frames, int beatsPerBar = 4);
    int clickLane() const { return clickLane_; }  // -1: none
    // Clicks on the song's beat (its median beat, 120 BPM when no beats are known) before each
    // play() starts the song; 0: none.
    void setCountIn(int beats) { countIn_ = std::max(0, beats); }
    int countIn() const { return countIn_; }
    int64_t beatInterval() const;  // frames, song time
    // A lane's waveform peaks (they may still be growing).
    std::shared_ptr<const PeakCache> peaks(int lane) const;
    // Up to `n` frames of a lane from `from`, as its channels' mean, for drawing up close; UI
    // thread. Returns how many (0 beyond what there is).
    int64_t readMono(int lane, int64_t from, int64_t n, float* out);

    void play();
    void pause();
    void stop();  // pause and back to the start
    void seek(qint64 frame);
    bool playing() const { return playing_; }
    // Tempo (0.25-2, keeping the pitch) and pitch (+-12 semitones, keeping the tempo) of what is
    // heard, changed while it plays: the mix is stretched once after the stems are summed, so they
    // cannot drift apart; positions stay in song time.
    void setTempo(double tempo);
    void setSemitones(double semitones);
    // As asked: heard once the stretcher is made (off the UI thread, a fraction of a second the
    // first time: Rubber Band's set-up and the check of which engine the CPU can run).
    double tempo() const { return tempo_; }
    double semitones() const { return semitones_; }
    bool stretcherReady() const { return stretcher_ != nullptr; }
    // The frame being heard now (the mixer's position minus what waits in the sink's buffer).
    qint64 position() const;
    qint64 length() const { return mixer_ ? mixer_->length() : 0; }
    // How far the song can be played now (less than length() while it is being separated).
    qint64 frontier() const { return mixer_ ? mixer_->frontier() : 0; }
    // Why there is no sound, when there is none (no audio device); empty otherwise.
    QString outputError() const { return outputError_; }

Q_SIGNALS:
    void loaded();
    void error(const QString& message);
    void positionChanged(qint64 frame);  // at display rate while playing, and on seeks
    void playingChanged(bool playing);
    void peaksGrew();  // more of a lane's waveform can be drawn (or the frontier moved)

public:
    // One lane as load() prepares it: how to open it (for the mixer, and again for drawing).
    struct LaneSpec {
        QString name;
        std::function<std::unique_ptr<LaneSource>()> open;
        std::shared_ptr<const AudioBuffer> audio;  // in memory instead
        std::shared_ptr<const PeakCache> peaks;
        std::unique_ptr<LaneSource> source;  // opened for the mixer
        std::unique_ptr<LaneSource> view;    // opened on demand for readMono
        int64_t viewPos = -1;
    };

private:
    void install(std::vector<LaneSpec> lanes, bool withClick = false);
    void stopSink();
    void makeStretcher();  // on the thread pool, on first use; adopted on the UI thread
    std::unique_ptr<Mixer> mixer_;
    std::shared_ptr<Stretcher> stretcher_;
    bool makingStretcher_ = false;
    double tempo_ = 1.0, semitones_ = 0.0;
    std::shared_ptr<ClickBeats> clickBeats_;
    int clickLane_ = -1;
    int countIn_ = 0;
    std::vector<LaneSpec> lanes_;
    QStringList names_;
    QAudioSink* sink_ = nullptr;
    MixerDevice* device_ = nullptr;
    QAudioFormat format_;
    QTimer tick_;
    bool playing_ = false;
    QString outputError_;
    QByteArray outputId_;
    int loadGeneration_ = 0;
    std::shared_ptr<std::atomic<bool>> stopBuilds_;  // of the peaks being made for this load
    QMap<QString, QString> pendingPeakFiles_;        // lane name: where its made peaks go
    std::shared_ptr<const LiveSong> live_;           // the separation playing, if any
};

// The frame being heard: `rendered` (the mixer's position) less `queued` frames of the device
// (at its rate) still waiting to be played, back across the loop's wrap if there is one. With a
// stretcher, `inStretcher` song frames wait inside it and the device's frames count `tempo`
// song frames each.
int64_t heardPosition(int64_t rendered, int64_t queued, int deviceRate, int mixerRate,
                      int64_t loopStart, int64_t loopEnd, double tempo = 1.0,
                      int64_t inStretcher = 0);

}  // namespace msplit
