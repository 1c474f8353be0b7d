#include "ui/chord_lane.h"

#include <QPainter>

#include "ui/waveform_view.h"

namespace msplit::ui {

ChordLane::ChordLane(WaveformView* wave, QWidget* parent) : QWidget(parent), wave_(wave) {
    setObjectName("chordLane");
    setFixedHeight(24);
    connect(wave, &WaveformView::viewChanged, this, qOverload<>(&QWidget::update));
}

void ChordLane::setChords(std::vector<ChordSpan> chords) {
    chords_ = std::move(chords);
    update();
}

void ChordLane::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().alternateBase());
    // Lined up with the waveforms, which start after the lane headers on the left.
    const int offset = wave_->mapTo(window(), QPoint()).x() - mapTo(window(), QPoint()).x();
    int shade = 0;
    for (const ChordSpan& c : chords_) {
        if (c.chord.quality == ChordQuality::None) continue;
        const int a = offset + wave_->xOf(qint64(c.start * 44100)),
                  b = offset + wave_->xOf(qint64(c.end * 44100));
        if (b < 0 || a > width()) continue;
        const QRect r(a, 1, std::max(1, b - a - 1), height() - 2);
        p.fillRect(r, (shade++ % 2) ? QColor(225, 235, 250) : QColor(205, 220, 245));
        p.setPen(QColor(20, 40, 90));
        if (r.width() > 18)
            p.drawText(r.adjusted(3, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft,
                       QString::fromStdString(c.chord.name()));
    }
}

}  // namespace msplit::ui
