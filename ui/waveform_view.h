#pragma once
// The painted part of the track view: a time ruler, one waveform lane per stem, the playhead and
// the loop region and the beat grid. Click to seek, drag to select a loop, Ctrl+wheel to zoom,
// wheel to scroll.
#include <QColor>
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

#include "core/audio/peaks.h"

namespace msplit::ui {

class WaveformView : public QWidget {
    Q_OBJECT
public:
    static constexpr int kRulerHeight = 24;
    static constexpr int kLaneHeight = 72;

    explicit WaveformView(QWidget* parent = nullptr);

    // Reads `n` frames of a lane from `from` as its channels' mean (for drawing closer than
    // the finest peaks); returns how many.
    using SampleReader = std::function<int64_t(int lane, int64_t from, int64_t n, float* mono)>;
    // Lanes: a name and the peaks to draw (drawn as far as they are made, front to back), the
    // song's length, and where the samples come from up close.
    void setLanes(const QStringList& names,
                  const std::vector<std::shared_ptr<const PeakCache>>& peaks, qint64 length,
                  int sampleRate, SampleReader samples = {});
    std::shared_ptr<const PeakCache> peaks(int lane) const {
        return lane >= 0 && lane < int(lanes_.size()) ? lanes_[size_t(lane)].peaks : nullptr;
    }
    // Whether every lane's peaks are complete (what tests wait for before looking at pixels).
    bool peaksReady() const {
        for (const auto& lane : lanes_)
            if (!lane.peaks || !lane.peaks->finished()) return false;
        return true;
    }
    // Frames from here on are still being separated: shaded, with the playhead waiting there.
    void setFrontier(qint64 frame);
    qint64 frontier() const { return frontier_; }
    void setAudible(int lane, bool audible);
    void setPlayhead(qint64 frame);
    void setLoop(qint64 start, qint64 end);  // end <= start: none
    // The beat grid, drawn as ticks on the ruler and faint lines over the lanes.
    void setBeats(std::vector<qint64> frames);
    // Named points, drawn as flags on the ruler.
    void setMarkers(std::vector<std::pair<qint64, QString>> markers);
    qint64 playhead() const { return playhead_; }

    // The visible window: first frame and frames per pixel.
    void zoomToFit();
    void zoom(double factor, int anchorX);
    void scrollTo(double firstFrame);
    double firstFrame() const { return first_; }
    double framesPerPixel() const { return fpp_; }
    qint64 frameAt(int x) const;
    int xOf(qint64 frame) const;
    qint64 length() const { return length_; }
    QColor laneColour(int lane) const;

Q_SIGNALS:
    void seekRequested(qint64 frame);
    void loopSelected(qint64 start, qint64 end);
    void viewChanged();

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void wheelEvent(QWheelEvent* e) override;
    void resizeEvent(QResizeEvent*) override;

private:
    void paintLane(QPainter& p, int lane, const QRect& r);
    void paintRuler(QPainter& p);
    struct Lane {
        QString name;
        QColor colour;
        bool audible = true;
        std::shared_ptr<const PeakCache> peaks;
        std::vector<float> samples;  // read for drawing up close, from `samplesFrom`
        qint64 samplesFrom = -1;
    };
    const std::vector<float>& samplesFor(int lane, qint64 from, qint64 to);
    void paintBeats(QPainter& p);
    std::vector<Lane> lanes_;
    std::vector<qint64> beats_;
    std::vector<std::pair<qint64, QString>> markers_;
    SampleReader reader_;
    qint64 frontier_ = 0;
    int rate_ = 44100;
    qint64 length_ = 0;
    double first_ = 0, fpp_ = 1;
    qint64 playhead_ = 0, loopStart_ = 0, loopEnd_ = 0;
    int pressX_ = -1, dragX_ = -1;
    bool fitted_ = true;
};

QString formatTime(qint64 frame, int sampleRate);  // m:ss.mmm

}  // namespace msplit::ui
