#include "ui/track_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollArea>
#include <QShortcut>
#include <QSlider>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "core/error.h"
#include "ui/chord_lane.h"
#include "ui/waveform_view.h"

namespace msplit::ui {

// The whole song at a glance, with the visible part framed; a click moves the view there.
class OverviewStrip : public QWidget {
public:
    explicit OverviewStrip(WaveformView* wave, QWidget* parent) : QWidget(parent), wave_(wave) {
        setFixedHeight(36);
        connect(wave, &WaveformView::viewChanged, this, qOverload<>(&QWidget::update));
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.fillRect(rect(), palette().alternateBase());
        const qint64 n = wave_->length();
        if (n <= 0) return;
        const double fpp = double(n) / width();
        p.setPen(palette().color(QPalette::Mid));
        // The first lane (the mix when it is there), drawn as far as its peaks go.
        if (const auto peaks = wave_->peaks(0))
            for (int x = 0;
                 x < width() && x * fpp < std::min<double>(peaks->builtFrames(), wave_->frontier());
                 ++x) {
                const auto [lo, hi] = peaks->range(qint64(x * fpp), qint64((x + 1) * fpp) + 1);
                p.drawLine(x, height() / 2 - int(hi * height() / 2), x,
                           height() / 2 - int(lo * height() / 2));
            }
        const int a = int(wave_->firstFrame() / fpp),
                  w = int(wave_->framesPerPixel() * wave_->width() / fpp);
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.drawRect(a, 1, std::max(2, w), height() - 2);
        p.setPen(QPen(QColor(220, 30, 30), 1));
        const int x = int(double(wave_->playhead()) / fpp);
        p.drawLine(x, 0, x, height());
    }
    void mousePressEvent(QMouseEvent* e) override {
        const double fpp = double(wave_->length()) / std::max(1, width());
        wave_->scrollTo(e->position().x() * fpp - wave_->framesPerPixel() * wave_->width() / 2);
    }

private:
    WaveformView* wave_;
};

namespace {

QToolButton* toolButton(QWidget* parent, const QString& text, const QString& tip,
                        bool checkable = false) {
    auto* b = new QToolButton(parent);
    b->setText(text);
    b->setToolTip(tip);
    b->setCheckable(checkable);
    return b;
}

}  // namespace

TrackView::TrackView(QWidget* parent)
    : QWidget(parent),
      title_(new QLabel(this)),
      time_(new QLabel(this)),
      notice_(new QLabel(this)),
      play_(toolButton(this, tr("Play"), tr("Play / pause (Space)"))),
      loop_(toolButton(this, tr("Loop"), tr("Loop the selected region (L)"), true)),
      snap_(new QCheckBox(tr("Snap"), this)),
      countIn_(new QCheckBox(tr("Count-in"), this)),
      tempo_(new QSpinBox(this)),
      pitch_(new QDoubleSpinBox(this)),
      found_(new QLabel(this)),
      trainer_(new QCheckBox(tr("Speed trainer"), this)),
      trainerStep_(new QSpinBox(this)),
      trainerTarget_(new QSpinBox(this)),
      repeats_(new QLabel(this)),
      markerBox_(new QComboBox(this)),
      headers_(new QWidget(this)),
      headerLayout_(new QVBoxLayout(headers_)),
      wave_(new WaveformView(this)),
      chords_(new ChordLane(wave_, this)),
      overview_(new OverviewStrip(wave_, this)) {
    QFont f = title_->font();
    f.setPointSizeF(f.pointSizeF() * 1.3);
    title_->setFont(f);
    play_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    auto* stop = toolButton(this, tr("Stop"), tr("Stop and go to the start (Home)"));
    stop->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
    auto* fit = toolButton(this, tr("Fit"), tr("Zoom to fit (0)"));
    auto* zoomIn = toolButton(this, "+", tr("Zoom in (+, Ctrl+wheel)"));
    auto* zoomOut = toolButton(this, "−", tr("Zoom out (-)"));
    time_->setObjectName("timeLabel");
    notice_->setObjectName("playerNotice");
    loop_->setObjectName("loopButton");
    snap_->setObjectName("snapToBeats");
    snap_->setToolTip(tr("Loop points snap to the nearest beat"));
    snap_->setChecked(true);
    countIn_->setObjectName("countIn");
    countIn_->setToolTip(tr("A bar of clicks on the song's beat before it plays"));
    tempo_->setObjectName("tempoBox");
    tempo_->setRange(25, 200);
    tempo_->setSingleStep(5);
    tempo_->setValue(100);
    tempo_->setSuffix(tr(" % tempo"));
    tempo_->setToolTip(tr("Speed, keeping the pitch (Rubber Band)"));
    pitch_->setObjectName("pitchBox");
    pitch_->setRange(-12, 12);
    pitch_->setDecimals(2);
    pitch_->setSingleStep(1);
    pitch_->setSuffix(tr(" st"));
    pitch_->setToolTip(tr("Pitch in semitones (hundredths are cents), keeping the tempo"));
    found_->setObjectName("analysisLabel");
    trainer_->setObjectName("speedTrainer");
    trainer_->setToolTip(tr("Each time the loop repeats, play it a little faster"));
    trainerStep_->setRange(1, 25);
    trainerStep_->setValue(5);
    trainerStep_->setSuffix(tr(" % per repeat"));
    trainerTarget_->setRange(25, 200);
    trainerTarget_->setValue(100);
    trainerTarget_->setPrefix(tr("up to "));
    trainerTarget_->setSuffix(" %");
    repeats_->setObjectName("repeatLabel");
    markerBox_->setObjectName("markerBox");
    markerBox_->setToolTip(tr("Jump to a marker"));
    markerBox_->setMinimumWidth(110);
    markerBox_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto* markerButton = toolButton(this, tr("+ Marker"), tr("Mark the playhead's position (M)"));
    markerButton->setObjectName("addMarker");
    auto* transport = new QHBoxLayout;
    for (QWidget* w :
         {static_cast<QWidget*>(play_), static_cast<QWidget*>(stop), static_cast<QWidget*>(loop_),
          static_cast<QWidget*>(snap_), static_cast<QWidget*>(countIn_)})
        transport->addWidget(w);
    transport->addWidget(time_);
    transport->addWidget(markerButton);
    transport->addWidget(markerBox_);
    transport->addWidget(notice_, 1);
    for (QWidget* w : {zoomOut, zoomIn, fit})
        transport->addWidget(w);

    headerLayout_->setContentsMargins(0, WaveformView::kRulerHeight, 0, 0);
    headerLayout_->setSpacing(0);
    headers_->setFixedWidth(190);
    auto* lanes = new QHBoxLayout;
    lanes->setSpacing(0);
    lanes->addWidget(headers_, 0, Qt::AlignTop);
    lanes->addWidget(wave_, 1);
    auto* practice = new QHBoxLayout;
    for (QWidget* w : {static_cast<QWidget*>(tempo_), static_cast<QWidget*>(pitch_),
                       static_cast<QWidget*>(trainer_), static_cast<QWidget*>(trainerStep_),
                       static_cast<QWidget*>(trainerTarget_), static_cast<QWidget*>(repeats_)})
        practice->addWidget(w);
    practice->addSpacing(12);
    practice->addWidget(found_, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(title_);
    layout->addLayout(transport);
    layout->addLayout(practice);
    layout->addLayout(lanes, 1);
    layout->addWidget(chords_);
    layout->addWidget(overview_);

    connect(play_, &QToolButton::clicked, this,
            [this] { player_.playing() ? player_.pause() : player_.play(); });
    connect(stop, &QToolButton::clicked, &player_, &Player::stop);
    connect(fit, &QToolButton::clicked, wave_, &WaveformView::zoomToFit);
    connect(zoomIn, &QToolButton::clicked, this,
            [this] { wave_->zoom(2, wave_->xOf(wave_->playhead())); });
    connect(zoomOut, &QToolButton::clicked, this,
            [this] { wave_->zoom(0.5, wave_->xOf(wave_->playhead())); });
    connect(loop_, &QToolButton::toggled, this, [this](bool on) {
        if (player_.mixer()) player_.mixer()->setLoop(on ? loopStart_ : 0, on ? loopEnd_ : 0);
        if (!restoring_) saveTimer_.start();
    });
    connect(wave_, &WaveformView::seekRequested, &player_, &Player::seek);
    connect(wave_, &WaveformView::loopSelected, this, &TrackView::selectLoop);
    connect(tempo_, &QSpinBox::valueChanged, this, &TrackView::setTempoPercent);
    connect(pitch_, &QDoubleSpinBox::valueChanged, this, &TrackView::setSemitones);
    connect(&player_, &Player::positionChanged, this, &TrackView::showPosition);
    connect(&player_, &Player::positionChanged, this, &TrackView::countRepeats);
    connect(markerButton, &QToolButton::clicked, this, [this] { addMarker(); });
    connect(markerBox_, &QComboBox::activated, this, &TrackView::jumpToMarker);
    saveTimer_.setSingleShot(true);
    saveTimer_.setInterval(300);
    connect(&saveTimer_, &QTimer::timeout, this, &TrackView::savePractice);
    connect(countIn_, &QCheckBox::toggled, this, [this](bool on) {
        player_.setCountIn(on ? 4 : 0);
        if (!restoring_) saveTimer_.start();
    });
    connect(trainer_, &QCheckBox::toggled, this, [this](bool on) {
        setSpeedTrainer(on, trainerStep_->value(), trainerTarget_->value());
    });
    connect(&player_, &Player::playingChanged, this, [this](bool playing) {
        play_->setIcon(
            style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    });
    connect(&player_, &Player::error, notice_, &QLabel::setText);
    connect(&player_, &Player::loaded, this, &TrackView::rebuildLanes);
    connect(&player_, &Player::peaksGrew, this, [this] {
        wave_->update();
        overview_->update();
    });
    // While a separation runs, the part that can be played grows: shown every so often.
    frontierTick_.setInterval(250);
    connect(&frontierTick_, &QTimer::timeout, this, &TrackView::showFrontier);

    const auto key = [this](QKeySequence k, std::function<void()> f) {
        auto* s = new QShortcut(k, this, nullptr, nullptr, Qt::WidgetWithChildrenShortcut);
        connect(s, &QShortcut::activated, this, std::move(f));
    };
    key(Qt::Key_Space, [this] { player_.playing() ? player_.pause() : player_.play(); });
    key(Qt::Key_Home, [this] { player_.seek(0); });
    key(Qt::Key_End, [this] { player_.seek(player_.length()); });
    key(Qt::Key_Left,
        [this] { player_.seek(std::max<qint64>(0, player_.position() - 5 * 44100)); });
    key(Qt::Key_Right, [this] { player_.seek(player_.position() + 5 * 44100); });
    key(Qt::Key_L, [this] { loop_->toggle(); });
    key(Qt::Key_M, [this] { addMarker(); });
    key(Qt::Key_Plus, [this] { wave_->zoom(2, wave_->xOf(wave_->playhead())); });
    key(Qt::Key_Minus, [this] { wave_->zoom(0.5, wave_->xOf(wave_->playhead())); });
    key(Qt::Key_0, [this] { wave_->zoomToFit(); });
}

void TrackView::showRecord(const JobRecord& record) {
    if (saveTimer_.isActive()) savePractice();  // the last change to the song shown before
    record_ = record;
    // The practice state as last saved (the caller's copy of the record may be older).
    QFile json(record.folder + "/job.json");
    if (json.open(QIODevice::ReadOnly))
        record_.practice = QJsonDocument::fromJson(json.readAll()).object()["practice"].toObject();
    title_->setText(QString("%1 · %2").arg(record.title, record.model));
    notice_->clear();
    TrackFiles track;
    track.names = record.stems;
    for (const QString& stem : record.stems) {
        track.files << record.stemFile(stem);
        track.peaks << record.peaksFile(stem);
    }
    track.gain = record.gain;
    track.original = record.source;
    track.originalPeaks = record.peaksFile({});
    player_.load(track);
    analyze(record.folder);
}

void TrackView::showLive(std::shared_ptr<const LiveSong> song) {
    record_ = JobRecord{};
    record_.title = song->title;
    record_.stems = song->stems;
    title_->setText(tr("%1 · separating").arg(song->title));
    notice_->clear();
    setAnalysis(std::nullopt);
    player_.loadLive(std::move(song));
}

void TrackView::adoptRecord(const JobRecord& record) {
    record_ = record;
    title_->setText(QString("%1 · %2").arg(record.title, record.model));
    analyze(record.folder);
}

void TrackView::analyze(const QString& folder) {
    setAnalysis(std::nullopt);
    if (stopAnalysis_) *stopAnalysis_ = true;  // the previous song's is not wanted now
    stopAnalysis_ = std::make_shared<std::atomic<bool>>(false);
    found_->setText(tr("Finding beats and chords…"));
    const int generation = ++analysisGeneration_;
    struct Result {
        std::optional<SongAnalysis> analysis;
        QString error;  // why there is none
    };
    auto* watcher = new QFutureWatcher<Result>(this);
    connect(watcher, &QFutureWatcher<Result>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != analysisGeneration_) return;
        const Result r = watcher->result();
        setAnalysis(r.analysis);
        if (!analysis_)
            found_->setText(r.error.isEmpty()
                                ? tr("No beats or chords found")
                                : tr("Beats and chords cannot be found: %1").arg(r.error));
    });
    // Kept beside the result once made: read in a moment the next time.
    auto stop = stopAnalysis_;
    watcher->setFuture(QtConcurrent::run([folder, stop]() -> Result {
        const QString file = analysisFile(folder);
        if (auto kept = loadAnalysis(file)) return {kept, {}};
        try {
            SongAnalysis made =
                analyzeStems(stemsInFolder(folder), [stop](double) { return !*stop; });
            try {
                saveAnalysis(file, made);
            } catch (const Error& e) {  // a read-only library: made again next time
                qWarning("analysis: not kept: %s", e.what());
            }
            return {made, {}};
        } catch (const Error& e) {
            return {std::nullopt, QString::fromUtf8(e.what())};
        }
    }));
}

void TrackView::setAnalysis(std::optional<SongAnalysis> analysis) {
    analysis_ = std::move(analysis);
    std::vector<qint64> beats;
    if (analysis_)
        for (double b : analysis_->beats.beats)
            beats.push_back(qint64(std::llround(b * 44100)));
    player_.setBeats(std::vector<int64_t>(beats.begin(), beats.end()));
    wave_->setBeats(std::move(beats));
    chords_->setChords(analysis_ ? analysis_->chords : std::vector<ChordSpan>{});
    found_->clear();
    if (!analysis_) return;
    QStringList parts;
    if (analysis_->beats.bpm > 0) parts << tr("%1 BPM").arg(analysis_->beats.bpm, 0, 'f', 1);
    if (analysis_->key.tonic >= 0)
        parts << tr("%1 (%2 %)")
                     .arg(QString::fromStdString(analysis_->key.name()))
                     .arg(int(std::lround(100 * analysis_->key.confidence)));
    found_->setText(parts.join(" · "));
    Q_EMIT analysisReady();
}

void TrackView::selectLoop(qint64 start, qint64 end) {
    if (snap_->isChecked() && analysis_ && analysis_->beats.beats.size() > 1) {
        const auto& grid = analysis_->beats;
        start = qint64(std::llround(grid.snap(double(start) / 44100) * 44100));
        end = qint64(std::llround(grid.snap(double(end) / 44100) * 44100));
        if (end <= start) {  // both on one beat: the beat after it ends the loop
            auto next = std::upper_bound(grid.beats.begin(), grid.beats.end(),
                                         double(start) / 44100 + 1e-6);
            if (next != grid.beats.end()) end = qint64(std::llround(*next * 44100));
        }
        wave_->setLoop(start, end);
    }
    loopStart_ = start;
    loopEnd_ = end;
    if (loop_->isChecked() && player_.mixer()) player_.mixer()->setLoop(start, end);
    repeat_ = 0;  // a new loop: counted from its first time round
    repeats_->clear();
    if (!restoring_) saveTimer_.start();
}

void TrackView::addMarker(const QString& name) {
    const qint64 at = player_.position();
    markers_.emplace_back(at, name.isEmpty() ? tr("Marker %1").arg(markers_.size() + 1) : name);
    std::sort(markers_.begin(), markers_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    showMarkers();
    saveTimer_.start();
}

void TrackView::jumpToMarker(int index) {
    if (index >= 0 && index < int(markers_.size())) player_.seek(markers_[size_t(index)].first);
}

void TrackView::showMarkers() {
    const QSignalBlocker block(markerBox_);
    markerBox_->clear();
    for (const auto& [frame, name] : markers_)
        markerBox_->addItem(QString("%1  %2").arg(name, formatTime(frame, 44100)));
    markerBox_->setEnabled(!markers_.empty());
    wave_->setMarkers(markers_);
}

void TrackView::savePractice() {
    saveTimer_.stop();
    if (record_.folder.isEmpty()) return;  // a song still being separated has no record yet
    QJsonArray marks;
    for (const auto& [frame, name] : markers_)
        marks.append(QJsonObject{{"frame", frame}, {"name", name}});
    record_.practice = {{"tempo_percent", tempo_->value()},         {"semitones", pitch_->value()},
                        {"loop", QJsonArray{loopStart_, loopEnd_}}, {"loop_on", loop_->isChecked()},
                        {"count_in", countIn_->isChecked()},        {"markers", marks}};
    try {
        rewriteRecord(record_);
    } catch (const Error& e) {
        notice_->setText(tr("The practice settings cannot be saved: %1").arg(e.what()));
    }
}

void TrackView::restorePractice() {
    restoring_ = true;
    const QJsonObject p = record_.practice;
    setTempoPercent(std::clamp(p["tempo_percent"].toInt(100), 25, 200));
    setSemitones(std::clamp(p["semitones"].toDouble(0), -12.0, 12.0));
    const QJsonArray loop = p["loop"].toArray();
    const qint64 length = player_.length();
    loopStart_ = std::clamp<qint64>(qint64(loop.at(0).toDouble()), 0, length);
    loopEnd_ = std::clamp<qint64>(qint64(loop.at(1).toDouble()), 0, length);
    wave_->setLoop(loopStart_, loopEnd_);
    loop_->setChecked(p["loop_on"].toBool() && loopEnd_ > loopStart_);
    if (player_.mixer())
        player_.mixer()->setLoop(loop_->isChecked() ? loopStart_ : 0,
                                 loop_->isChecked() ? loopEnd_ : 0);
    countIn_->setChecked(p["count_in"].toBool());
    markers_.clear();
    for (const QJsonValue& v : p["markers"].toArray()) {
        const QJsonObject m = v.toObject();
        const qint64 frame = qint64(m["frame"].toDouble(-1));
        if (frame >= 0 && frame <= length) markers_.emplace_back(frame, m["name"].toString());
    }
    showMarkers();
    restoring_ = false;
}

void TrackView::setSpeedTrainer(bool on, int stepPercent, int targetPercent) {
    const QSignalBlocker block(trainer_);
    trainer_->setChecked(on);
    trainerStep_->setValue(stepPercent);
    trainerTarget_->setValue(targetPercent);
}

void TrackView::countRepeats() {
    const Mixer* m = player_.mixer();
    if (!m) return;
    const uint64_t wraps = m->loopWraps();
    if (wraps == seenWraps_) return;
    const int more = int(wraps - seenWraps_);
    seenWraps_ = wraps;
    if (!m->looping()) return;
    repeat_ = std::max(1, repeat_) + more;
    repeats_->setText(tr("Repeat %1").arg(repeat_));
    if (trainer_->isChecked() && tempo_->value() < trainerTarget_->value())
        setTempoPercent(
            std::min(trainerTarget_->value(), tempo_->value() + more * trainerStep_->value()));
}

void TrackView::setTempoPercent(int percent) {
    if (tempo_->value() != percent) tempo_->setValue(percent);  // comes back here once
    // Untouched songs play without the stretcher (and without making one).
    if (percent != 100 || player_.tempo() != 1.0) player_.setTempo(percent / 100.0);
    if (!restoring_) saveTimer_.start();
}

void TrackView::setSemitones(double semitones) {
    if (pitch_->value() != semitones) pitch_->setValue(semitones);
    if (semitones != 0 || player_.semitones() != 0) player_.setSemitones(semitones);
    if (!restoring_) saveTimer_.start();
}

void TrackView::showFrontier() {
    const qint64 frontier = player_.frontier();
    wave_->setFrontier(frontier);
    overview_->update();
    if (frontier >= player_.length()) {
        frontierTick_.stop();
        notice_->clear();
    } else if (player_.playing() && player_.mixer()->stalled()) {
        notice_->setText(tr("Waiting for the separation…"));
    } else {
        notice_->setText(tr("Separating: %1 ready").arg(formatTime(frontier, 44100)));
    }
}

QStringList TrackView::stemNames() const {
    return record_.stems;
}

void TrackView::rebuildLanes() {
    seenWraps_ = 0;  // a new mixer counts from zero
    repeat_ = 0;
    repeats_->clear();
    while (QLayoutItem* item = headerLayout_->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    Mixer* m = player_.mixer();
    const QStringList names = player_.laneNames();
    for (int i = 0; i < names.size(); ++i) {
        auto* h = new QWidget(headers_);
        h->setFixedHeight(WaveformView::kLaneHeight);
        auto* row = new QHBoxLayout(h);
        row->setContentsMargins(4, 2, 4, 2);
        auto* name = new QLabel(names[i], h);
        name->setMinimumWidth(52);
        auto* mute = toolButton(h, "M", tr("Mute"), true);
        auto* solo = toolButton(h, "S", tr("Solo"), true);
        mute->setObjectName(QString("mute%1").arg(i));
        solo->setObjectName(QString("solo%1").arg(i));
        mute->setChecked(m->muted(i));
        auto* gain = new QDoubleSpinBox(h);
        gain->setRange(-60, 12);
        gain->setSuffix(" dB");
        gain->setDecimals(1);
        gain->setToolTip(tr("Gain"));
        auto* pan = new QSlider(Qt::Horizontal, h);
        pan->setRange(-100, 100);
        pan->setToolTip(tr("Pan"));
        pan->setMaximumWidth(40);
        auto* controls = new QVBoxLayout;
        auto* buttons = new QHBoxLayout;
        buttons->addWidget(mute);
        buttons->addWidget(solo);
        controls->addLayout(buttons);
        controls->addWidget(pan);
        row->addWidget(name);
        row->addLayout(controls);
        row->addWidget(gain);
        headerLayout_->addWidget(h);
        connect(mute, &QToolButton::toggled, this, [this, i](bool on) { setMute(i, on); });
        connect(solo, &QToolButton::toggled, this, [this, i](bool on) { setSolo(i, on); });
        connect(gain, &QDoubleSpinBox::valueChanged, this,
                [this, i](double db) { setGainDb(i, db); });
        connect(pan, &QSlider::valueChanged, this, [this, i](int v) { setPan(i, v / 100.0); });
    }
    headerLayout_->addStretch(1);
    std::vector<std::shared_ptr<const PeakCache>> peaks;
    for (int i = 0; i < names.size(); ++i)
        peaks.push_back(player_.peaks(i));
    wave_->setLanes(names, peaks, player_.length(), 44100,
                    [this](int lane, int64_t from, int64_t n, float* mono) {
                        return player_.readMono(lane, from, n, mono);
                    });
    showFrontier();
    if (player_.frontier() < player_.length()) frontierTick_.start();
    refreshAudible();
    showPosition(0);
    restorePractice();
    Q_EMIT lanesReady();
}

void TrackView::refreshAudible() {
    if (Mixer* m = player_.mixer())
        for (int i = 0; i < m->lanes(); ++i)
            wave_->setAudible(i, m->audible(i));
}

void TrackView::setMute(int lane, bool on) {
    if (!player_.mixer()) return;
    player_.mixer()->setMute(lane, on);
    refreshAudible();
}
void TrackView::setSolo(int lane, bool on) {
    if (!player_.mixer()) return;
    player_.mixer()->setSolo(lane, on);
    refreshAudible();
}
void TrackView::setGainDb(int lane, double db) {
    if (player_.mixer()) player_.mixer()->setGainDb(lane, db);
}
void TrackView::setPan(int lane, double pan) {
    if (player_.mixer()) player_.mixer()->setPan(lane, pan);
}

void TrackView::showPosition(qint64 frame) {
    wave_->setPlayhead(frame);
    overview_->update();
    time_->setText(formatTime(frame, 44100) + " / " + formatTime(player_.length(), 44100));
}

}  // namespace msplit::ui
