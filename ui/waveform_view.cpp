#include "ui/waveform_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace msplit::ui {

QString formatTime(qint64 frame, int rate) {
    const qint64 ms = rate > 0 ? frame * 1000 / rate : 0;
    return QString("%1:%2.%3")
        .arg(ms / 60000)
        .arg(ms / 1000 % 60, 2, 10, QChar('0'))
        .arg(ms % 1000, 3, 10, QChar('0'));
}

WaveformView::WaveformView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(false);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumHeight(kRulerHeight + kLaneHeight);
}

QColor WaveformView::laneColour(int lane) const {
    static const QColor colours[] = {QColor(0x8a, 0x8f, 0x98), QColor(0xe0, 0x6c, 0x4a),
                                     QColor(0x4a, 0x90, 0xe2), QColor(0x7e, 0xc8, 0x50),
                                     QColor(0xc0, 0x5c, 0xd6), QColor(0xf0, 0xb4, 0x3c),
                                     QColor(0x3c, 0xc8, 0xc0)};
    return colours[lane % 7];
}

void WaveformView::setLanes(const QStringList& names,
                            const std::vector<std::shared_ptr<const PeakCache>>& peaks,
                            qint64 length, int rate, SampleReader samples) {
    lanes_.clear();
    rate_ = rate;
    length_ = length;
    frontier_ = length;
    reader_ = std::move(samples);
    for (int i = 0; i < names.size(); ++i) {
        Lane l;
        l.name = names[i];
        l.colour =
            laneColour(names[i] == tr("mix") ? 0 : i + (names.value(0) == tr("mix") ? 0 : 1));
        l.peaks = peaks[size_t(i)];
        lanes_.push_back(l);
    }
    setMinimumHeight(kRulerHeight + kLaneHeight * std::max<int>(1, int(lanes_.size())));
    zoomToFit();
}

void WaveformView::setFrontier(qint64 frame) {
    if (frame == frontier_) return;
    frontier_ = frame;
    for (auto& l : lanes_)  // samples read near the old frontier may have been short
        l.samplesFrom = -1;
    update();
}

const std::vector<float>& WaveformView::samplesFor(int lane, qint64 from, qint64 to) {
    Lane& l = lanes_[size_t(lane)];
    const auto have = static_cast<qint64>(l.samples.size());
    if (l.samplesFrom < 0 || from < l.samplesFrom || to > l.samplesFrom + have) {
        // A screen's worth and some on each side, so that scrolling reads little.
        const qint64 span = to - from, start = std::max<qint64>(0, from - span / 2);
        l.samples.assign(size_t(2 * span + 2), 0.0f);
        const qint64 got = reader_ ? reader_(lane, start, 2 * span + 2, l.samples.data()) : 0;
        l.samples.resize(size_t(std::max<qint64>(0, got)));
        l.samplesFrom = start;
    }
    return l.samples;
}

void WaveformView::setAudible(int lane, bool audible) {
    if (lane < 0 || lane >= int(lanes_.size())) return;
    lanes_[size_t(lane)].audible = audible;
    update();
}

void WaveformView::setPlayhead(qint64 frame) {
    playhead_ = frame;
    // Keep the playhead in view while playing (page by page, as DAWs do).
    if (!fitted_ && (xOf(frame) > width() || xOf(frame) < 0)) scrollTo(double(frame));
    update();
}

void WaveformView::setLoop(qint64 start, qint64 end) {
    loopStart_ = start;
    loopEnd_ = end;
    update();
}

void WaveformView::zoomToFit() {
    fitted_ = true;
    first_ = 0;
    fpp_ = std::max(1e-3, double(std::max<qint64>(length_, 1)) / std::max(1, width()));
    update();
    Q_EMIT viewChanged();
}

void WaveformView::zoom(double factor, int anchorX) {
    const double anchor = first_ + anchorX * fpp_;
    const double fit = double(std::max<qint64>(length_, 1)) / std::max(1, width());
    fpp_ = std::clamp(fpp_ / factor, 1.0 / 32, fit);  // down to 32 pixels per sample
    fitted_ = fpp_ >= fit;
    scrollTo(anchor - anchorX * fpp_);
}

void WaveformView::scrollTo(double firstFrame) {
    const double maxFirst = std::max(0.0, double(length_) - width() * fpp_);
    first_ = std::clamp(firstFrame, 0.0, maxFirst);
    update();
    Q_EMIT viewChanged();
}

qint64 WaveformView::frameAt(int x) const {
    return std::clamp<qint64>(qint64(std::floor(first_ + x * fpp_)), 0, length_);
}
int WaveformView::xOf(qint64 frame) const {
    return int(std::floor((double(frame) - first_) / fpp_));
}

void WaveformView::resizeEvent(QResizeEvent*) {
    if (fitted_) zoomToFit();
}

void WaveformView::paintRuler(QPainter& p) {
    p.fillRect(0, 0, width(), kRulerHeight, palette().window());
    p.setPen(palette().color(QPalette::WindowText));
    // A tick every "nice" interval that leaves about 100 pixels between labels.
    const double secondsPerPixel = fpp_ / rate_;
    double step = 0.001;
    for (double s : {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0})
        if (s / secondsPerPixel >= 100) {
            step = s;
            break;
        } else {
            step = s;
        }
    const qint64 stepFrames = std::max<qint64>(1, qint64(step * rate_));
    for (qint64 f = (qint64(first_) / stepFrames) * stepFrames; xOf(f) < width(); f += stepFrames) {
        const int x = xOf(f);
        if (x < 0) continue;
        p.drawLine(x, kRulerHeight - 6, x, kRulerHeight);
        p.drawText(x + 3, kRulerHeight - 8, formatTime(f, rate_));
    }
}

void WaveformView::paintLane(QPainter& p, int lane, const QRect& r) {
    const Lane& l = lanes_[size_t(lane)];
    const QColor colour = l.audible ? l.colour : QColor(150, 150, 150);
    p.fillRect(r, l.audible ? palette().base() : palette().alternateBase());
    const int mid = r.center().y(), half = r.height() / 2 - 4;
    p.setPen(QPen(colour.darker(130), 1));
    p.drawLine(r.left(), mid, r.right(), mid);
    if (!l.peaks) return;
    p.setPen(QPen(colour, 1));
    const qint64 drawn = std::min<qint64>(l.peaks->builtFrames(), frontier_);
    if (fpp_ >= PeakCache::kBase) {
        for (int x = 0; x < r.width(); ++x) {
            const qint64 a = qint64(std::floor(first_ + x * fpp_)),
                         b = qint64(std::floor(first_ + (x + 1) * fpp_));
            if (a >= drawn) break;
            const auto [lo, hi] = l.peaks->range(a, std::min(std::max(b, a + 1), drawn));
            p.drawLine(r.left() + x, mid - int(std::lround(hi * half)), r.left() + x,
                       mid - int(std::lround(lo * half)));
        }
    } else {  // closer than the finest peaks: the samples themselves
        const qint64 a = std::max<qint64>(0, qint64(first_)),
                     b = std::min<qint64>(frontier_, frameAt(r.width()) + 2);
        const std::vector<float>& s = samplesFor(lane, a, std::max(a, b));
        const qint64 from = l.samplesFrom, end = from + qint64(s.size());
        const auto at = [&](qint64 i) { return s[size_t(i - from)]; };
        if (fpp_ >= 1) {  // a vertical line per pixel, from its samples' extremes
            for (int x = 0; x < r.width(); ++x) {
                const qint64 i0 = qint64(std::floor(first_ + x * fpp_)),
                             i1 = std::min(end, qint64(std::floor(first_ + (x + 1) * fpp_)) + 1);
                if (i0 >= end || i0 < from) break;
                float lo = at(i0), hi = at(i0);
                for (qint64 i = i0 + 1; i < i1; ++i) {
                    lo = std::min(lo, at(i));
                    hi = std::max(hi, at(i));
                }
                p.drawLine(r.left() + x, mid - int(std::lround(hi * half)), r.left() + x,
                           mid - int(std::lround(lo * half)));
            }
        } else {  // the samples, joined
            QPainterPath path;
            bool started = false;
            for (qint64 i = std::max(a, from); i < std::min(b, end); ++i) {
                const QPointF pt(r.left() + (double(i) - first_) / fpp_, mid - at(i) * half);
                if (!started)
                    path.moveTo(pt);
                else
                    path.lineTo(pt);
                started = true;
            }
            p.drawPath(path);
        }
    }
    if (frontier_ < length_) {  // still being separated from here on
        const int x = std::max(r.left(), xOf(frontier_));
        p.fillRect(QRect(x, r.top(), r.right() - x + 1, r.height()),
                   QBrush(palette().color(QPalette::Mid), Qt::BDiagPattern));
    }
    p.setPen(palette().color(QPalette::Text));
    p.drawText(r.adjusted(6, 4, 0, 0), Qt::AlignLeft | Qt::AlignTop, l.name);
}

void WaveformView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    paintRuler(p);
    for (int i = 0; i < int(lanes_.size()); ++i)
        paintLane(p, i, QRect(0, kRulerHeight + i * kLaneHeight, width(), kLaneHeight - 1));
    paintBeats(p);
    if (loopEnd_ > loopStart_) {
        const int a = xOf(loopStart_), b = xOf(loopEnd_);
        p.fillRect(QRect(a, 0, std::max(1, b - a), height()), QColor(255, 200, 0, 50));
    }
    if (pressX_ >= 0 && dragX_ >= 0 && std::abs(dragX_ - pressX_) > 3)
        p.fillRect(QRect(std::min(pressX_, dragX_), 0, std::abs(dragX_ - pressX_), height()),
                   QColor(255, 200, 0, 50));
    const int x = xOf(playhead_);
    p.setPen(QPen(QColor(220, 30, 30), 1));
    p.drawLine(x, 0, x, height());
}

void WaveformView::setBeats(std::vector<qint64> frames) {
    beats_ = std::move(frames);
    update();
}

void WaveformView::setMarkers(std::vector<std::pair<qint64, QString>> markers) {
    markers_ = std::move(markers);
    update();
}

void WaveformView::paintBeats(QPainter& p) {
    for (const auto& [frame, name] : markers_) {  // a green flag and its name on the ruler
        const int x = xOf(frame);
        if (x < -100 || x > width()) continue;
        p.setPen(QPen(QColor(20, 140, 60), 2));
        p.drawLine(x, 0, x, height());
        p.fillRect(QRect(x, 0, p.fontMetrics().horizontalAdvance(name) + 6, 14),
                   QColor(20, 140, 60));
        p.setPen(Qt::white);
        p.drawText(x + 3, 11, name);
    }
    if (beats_.size() < 2) return;
    // Only when beats are far enough apart to be told apart (4 px or more).
    const double spacing = double(beats_.back() - beats_.front()) / double(beats_.size() - 1);
    if (spacing / fpp_ < 4) return;
    const QColor tick(40, 110, 220);
    QColor line = tick;
    line.setAlpha(45);
    auto it = std::lower_bound(beats_.begin(), beats_.end(), qint64(first_));
    for (; it != beats_.end(); ++it) {
        const int x = xOf(*it);
        if (x >= width()) break;
        p.setPen(QPen(tick, 2));
        p.drawLine(x, 0, x, 5);
        p.setPen(QPen(line, 1));
        p.drawLine(x, kRulerHeight, x, height());
    }
}

void WaveformView::mousePressEvent(QMouseEvent* e) {
    pressX_ = int(e->position().x());
    dragX_ = -1;
}

void WaveformView::mouseMoveEvent(QMouseEvent* e) {
    if (pressX_ < 0) return;
    dragX_ = int(e->position().x());
    update();
}

void WaveformView::mouseReleaseEvent(QMouseEvent* e) {
    const int x = int(e->position().x());
    if (pressX_ >= 0 && std::abs(x - pressX_) > 3) {
        const qint64 a = frameAt(std::min(x, pressX_)), b = frameAt(std::max(x, pressX_));
        setLoop(a, b);
        Q_EMIT loopSelected(a, b);
    } else {
        Q_EMIT seekRequested(frameAt(x));
    }
    pressX_ = dragX_ = -1;
    update();
}

void WaveformView::wheelEvent(QWheelEvent* e) {
    const double steps = e->angleDelta().y() / 120.0;
    if (e->modifiers() & Qt::ControlModifier)
        zoom(std::pow(1.25, steps), int(e->position().x()));
    else
        scrollTo(first_ - steps * 60 * fpp_);
    e->accept();
}

}  // namespace msplit::ui
