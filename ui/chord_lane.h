#pragma once
// The chords of a song as a lane under the waveforms, in step with their view: each chord's name
// over the time it sounds.
#include <QWidget>

#include <vector>

#include "core/practice/harmony.h"

namespace msplit::ui {

class WaveformView;

class ChordLane : public QWidget {
    Q_OBJECT
public:
    ChordLane(WaveformView* wave, QWidget* parent = nullptr);
    void setChords(std::vector<ChordSpan> chords);
    const std::vector<ChordSpan>& chords() const { return chords_; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    WaveformView* wave_;
    std::vector<ChordSpan> chords_;
};

}  // namespace msplit::ui
