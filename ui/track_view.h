#pragma once
// A result in the centre of the window: transport (play/pause, stop, loop, position), one lane
// per stem plus the original mix with mute, solo, gain and pan, the waveforms, and an overview of
// the whole song. All stems play on one clock (Player).
#include <QTimer>
#include <QWidget>

#include "core/jobs/library.h"
#include "core/player/player.h"

class QLabel;
class QToolButton;
class QVBoxLayout;

namespace msplit::ui {

class WaveformView;
class OverviewStrip;

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

Q_SIGNALS:
    void lanesReady();

private:
    void rebuildLanes();
    void refreshAudible();
    void showPosition(qint64 frame);
    void showFrontier();

    Player player_;
    JobRecord record_;
    QLabel* title_;
    QLabel* time_;
    QLabel* notice_;
    QToolButton* play_;
    QToolButton* loop_;
    QWidget* headers_;
    QVBoxLayout* headerLayout_;
    WaveformView* wave_;
    OverviewStrip* overview_;
    qint64 loopStart_ = 0, loopEnd_ = 0;
    QTimer frontierTick_;
};

}  // namespace msplit::ui
