#pragma once
// A result in the centre of the window: transport (play/pause, stop, loop, position), practice
// controls (tempo and pitch, the tempo and key found, loops snapped to beats), one lane per stem
// plus the original mix with mute, solo, gain and pan, the waveforms with the beat grid, the
// chords, and an overview of the whole song. All stems play on one clock (Player).
#include <QTimer>
#include <QWidget>

#include <atomic>
#include <memory>
#include <optional>

#include "core/jobs/library.h"
#include "core/jobs/song_analysis.h"
#include "core/player/player.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QToolButton;
class QVBoxLayout;

namespace msplit::ui {

class WaveformView;
class OverviewStrip;
class ChordLane;

class TrackView : public QWidget {
    Q_OBJECT
public:
    explicit TrackView(QWidget* parent = nullptr);
    void showRecord(const JobRecord& record);
    // A separation still running: its stems play as far as they are done.
    void showLive(std::shared_ptr<const LiveSong> song);
    // The finished result of the separation shown live: its title and files, the lanes kept (so
    // playback goes on undisturbed).
    void adoptRecord(const JobRecord& record);
    const JobRecord& record() const { return record_; }
    Player& player() { return player_; }
    WaveformView* waveform() const { return wave_; }
    QStringList stemNames() const;
    // Lane controls (also reachable through the lane headers' buttons).
    void setMute(int lane, bool on);
    void setSolo(int lane, bool on);
    void setGainDb(int lane, double db);
    void setPan(int lane, double pan);
    // Practice: tempo in percent (25-200) and pitch in semitones (cents as decimals).
    void setTempoPercent(int percent);
    void setSemitones(double semitones);
    // The result's beats, key and chords, once read or made (in the background).
    const std::optional<SongAnalysis>& analysis() const { return analysis_; }
    ChordLane* chordLane() const { return chords_; }
    // The speed trainer: each time the loop repeats, `stepPercent` faster, up to `targetPercent`.
    void setSpeedTrainer(bool on, int stepPercent = 5, int targetPercent = 100);
    int repeat() const { return repeat_; }  // which time round the loop this is (1 = first)
    // Markers: named points of the song (song frames), to jump to; saved with the result.
    void addMarker(const QString& name = {});  // at the playhead; "Marker N" when unnamed
    void jumpToMarker(int index);
    const std::vector<std::pair<qint64, QString>>& markers() const { return markers_; }

Q_SIGNALS:
    void lanesReady();
    void analysisReady();

private:
    void rebuildLanes();
    void refreshAudible();
    void showPosition(qint64 frame);
    void showFrontier();
    void analyze(const QString& folder);  // read or make the analysis, off the UI thread
    void setAnalysis(std::optional<SongAnalysis> analysis);
    void selectLoop(qint64 start, qint64 end);
    void countRepeats();
    // The practice state (tempo, pitch, loop, markers) kept in the result's job.json: saved a
    // moment after each change, restored when the song is opened again.
    void savePractice();
    void restorePractice();
    void showMarkers();  // on every playhead update: the loop's wraps, and the trainer's step

    Player player_;
    JobRecord record_;
    QLabel* title_;
    QLabel* time_;
    QLabel* notice_;
    QToolButton* play_;
    QToolButton* loop_;
    QCheckBox* snap_;
    QCheckBox* countIn_;  // a bar of clicks before play starts the song
    QSpinBox* tempo_;
    QDoubleSpinBox* pitch_;
    QLabel* found_;       // tempo and key found
    QCheckBox* trainer_;  // the speed trainer: each repeat of the loop a little faster
    QSpinBox* trainerStep_;
    QSpinBox* trainerTarget_;
    QLabel* repeats_;
    QComboBox* markerBox_;
    std::vector<std::pair<qint64, QString>> markers_;
    QTimer saveTimer_;
    bool restoring_ = false;
    uint64_t seenWraps_ = 0;
    int repeat_ = 0;
    QWidget* headers_;
    QVBoxLayout* headerLayout_;
    WaveformView* wave_;
    ChordLane* chords_;
    OverviewStrip* overview_;
    qint64 loopStart_ = 0, loopEnd_ = 0;
    QTimer frontierTick_;
    std::optional<SongAnalysis> analysis_;
    int analysisGeneration_ = 0;
    std::shared_ptr<std::atomic<bool>> stopAnalysis_;
};

}  // namespace msplit::ui
