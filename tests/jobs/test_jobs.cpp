// The jobs part without widgets: the library's folders, the queue running real separations (the
// fixtures' tiny model), the list model over both, folder scans, and settings into a job config.
#include <QAbstractItemModelTester>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtConcurrent>
#include <QtTest>

#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/error.h"
#include "core/jobs/export.h"
#include "core/jobs/job_config.h"
#include "core/jobs/job_list_model.h"
#include "core/jobs/job_queue.h"
#include "core/jobs/library.h"
#include "core/jobs/separation.h"
#include "core/jobs/song_scan.h"
#include "core/settings.h"
#include "tests/common/fixtures.h"
#include "tests/common/isolated_app.h"

using namespace msplit;

namespace {

QString songPath() {
    return test::caseDir("htdemucs_tiny") + "/input.wav";
}

// The fixtures' tiny model on the CPU, no random shifts: results equal the official ones.
JobConfig tinyConfig(const QString& library) {
    JobConfig c;
    c.separation.model = "htdemucs_tiny";
    c.separation.repo = test::repoDir().toStdString();
    c.separation.device = "cpu";
    c.separation.options.shifts = 0;
    c.libraryRoot = library;
    return c;
}

// Waits until the queue says item `id` has ended; false after `ms`.
bool waitForEnd(JobQueue& q, int id, int ms = 120000) {
    const auto ended = [&] {
        const JobQueue::Item* it = q.item(id);
        return it && it->state != JobQueue::State::Queued && it->state != JobQueue::State::Running;
    };
    return QTest::qWaitFor(ended, ms);
}

QStringList hiddenFolders(const QString& root) {
    return QDir(root)
        .entryList(QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot)
        .filter(QRegularExpression("^\\."));
}

void writeTone(const QString& path, double seconds) {
    AudioBuffer b;
    b.channels = 1;
    b.samples.resize(static_cast<size_t>(seconds * 44100));
    for (size_t i = 0; i < b.samples.size(); ++i)
        b.samples[i] = 0.3f * std::sin(float(i) * 0.05f);
    EncodeOptions o;
    encodeAudio(path.toStdString(), b, o);
}

}  // namespace

class TestJobs : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void libraryCommitsLoadsAndRemoves() {
        QTemporaryDir dir;
        const Library library(dir.path() + "/library");
        QString id;
        const QString temp = library.beginJob("My Song / Live?", &id);
        QVERIFY(QDir(temp).exists());
        QVERIFY(QDir(temp).dirName().startsWith("."));  // hidden until complete
        QVERIFY(!id.contains('/') && !id.contains('?'));
        QCOMPARE(library.load().size(), 0);

        writeTone(temp + "/drums.flac", 0.1);
        JobRecord r;
        r.id = id;
        r.title = "My Song";
        r.model = "htdemucs";
        r.stems = {"drums"};
        r.extension = "flac";
        r.gain = 0.5;
        r.created = QDateTime::currentDateTime();
        const JobRecord done = library.commitJob(temp, r);
        QVERIFY(!QDir(temp).exists());
        const QList<JobRecord> loaded = library.load();
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(loaded[0].title, QString("My Song"));
        QCOMPARE(loaded[0].gain, 0.5);
        QCOMPARE(loaded[0].folder, done.folder);
        QVERIFY(QFile::exists(loaded[0].stemFile("drums")));

        // A result whose stem went missing is not offered.
        QString id2;
        const QString temp2 = library.beginJob("Broken", &id2);
        r.id = id2;
        const JobRecord broken = library.commitJob(temp2, r);
        QCOMPARE(library.load().size(), 1);
        QVERIFY(library.remove(broken));

        const QString abandoned = library.beginJob("Cancelled", &id2);
        library.abandonJob(abandoned);
        QVERIFY(!QDir(abandoned).exists());
        QVERIFY(library.remove(done));
        QCOMPARE(library.load().size(), 0);
        QVERIFY(hiddenFolders(library.root()).isEmpty());
    }

    // Jobs of the same title started at the same moment never share a folder.
    // A killed process's temporary job folder goes at the next start, once idle; a running
    // job's stays.
    // Names from outside (tags, YouTube titles, file names) stay one name in the folder meant.
    void titlesAndFileNamesBecomeSafeNames() {
        QTemporaryDir dir;
        const Library library(dir.path() + "/library");
        QString id;
        const QString temp = library.beginJob("../../エラー: AC/DC", &id);
        QCOMPARE(QFileInfo(temp).absolutePath(), QDir(dir.path() + "/library").absolutePath());
        QVERIFY2(id.endsWith("-_._.._エラー_ AC_DC"), qPrintable(id));
        QVERIFY(QDir(temp).removeRecursively());

        JobRecord r;
        r.stems = {"drums"};
        ExportOptions o;
        o.destination = dir.filePath("out");
        o.encode.format = FileFormat::Wav;
        o.stems = {"drums"};
        o.nameTemplate = "{track}/{stem}.{ext}";
        const QString out = QDir(dir.filePath("out")).absolutePath();
        r.title = "AC/DC - Mr. Brightside";  // no file: the title, slash and dots kept as one name
        QCOMPARE(exportTargets(r, o), QStringList{out + "/AC_DC - Mr. Brightside/drums.wav"});
        r.title = "..";
        QCOMPARE(exportTargets(r, o), QStringList{out + "/_./drums.wav"});
        r.source = "/music/What? Live: 1999.mp3";  // a file: its name, made portable
        o.nameTemplate = "{track}_{stem}.{trackext}.{ext}";
        QCOMPARE(exportTargets(r, o), QStringList{out + "/What_ Live_ 1999_drums.mp3.wav"});
        o.nameTemplate = "../{stem}.{ext}";  // the template itself is the user's: checked, refused
        QVERIFY_THROWS_EXCEPTION(Error, exportTargets(r, o));
    }

    void strayJobFoldersAreRemoved() {
        QTemporaryDir dir;
        const Library lib(dir.path());
        QString a, b;
        const QString stray = lib.beginJob("killed", &a), running = lib.beginJob("running", &b);
        for (const QString& folder : {stray, running}) {
            QFile f(folder + "/.music-split-spool.part");
            QVERIFY(f.open(QIODevice::WriteOnly) && f.write("x") == 1);
        }
        const time_t old = time(nullptr) - 7200;  // last written two hours ago
        const timeval times[2] = {{old, 0}, {old, 0}};
        for (const QString& path : {stray + "/.music-split-spool.part", stray})
            QVERIFY(utimes(QFile::encodeName(path).constData(), times) == 0);
        QCOMPARE(lib.removeStrays(3600), 1);
        QVERIFY(!QFileInfo::exists(stray));
        QVERIFY(QFileInfo::exists(running));
    }

    void sameTitleAtOnceGetsOwnFolders() {
        QTemporaryDir dir;
        const Library library(dir.path());
        QList<QFuture<QString>> starts;
        for (int i = 0; i < 8; ++i)
            starts << QtConcurrent::run([&library] {
                QString id;
                return library.beginJob("Same", &id);
            });
        QSet<QString> folders;
        for (auto& f : starts)
            folders << f.result();
        QCOMPARE(folders.size(), 8);
    }

    void queueSeparatesIntoTheLibraryAndTheModelFollows() {
        QTemporaryDir dir;
        JobQueue queue;
        JobListModel model(&queue);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRecords({});
        queue.setConfig(tinyConfig(dir.path()));
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        const int id = queue.enqueue(songPath());
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.queueIdAt(0), id);
        QVERIFY(model.index(0).data(JobListModel::ActiveRole).toBool());
        QVERIFY(queue.busy());
        QVERIFY(!queue.remove(id));  // not while it runs

        QVERIFY(waitForEnd(queue, id));
        QVERIFY(changed.size() >= 2);  // progress, then done
        const auto* item = queue.item(id);
        QCOMPARE(int(item->state), int(JobQueue::State::Done));
        QCOMPARE(item->result.stems, QStringList({"drums", "bass", "other", "vocals"}));
        const QModelIndex row = model.index(0);
        QCOMPARE(row.data(JobListModel::StateRole).toInt(), int(JobQueue::State::Done));
        QVERIFY(!row.data(JobListModel::ActiveRole).toBool());
        QCOMPARE(row.data(JobListModel::StemCountRole).toInt(), 4);
        QVERIFY(row.data(JobListModel::DurationRole).toDouble() > 0);
        QVERIFY(model.recordAt(0) && model.recordAt(0)->folder == item->result.folder);

        // The stems on disk are the official output (24-bit FLAC, undone by the gain).
        const at::Tensor ref =
            engine::readNpy((test::caseDir("htdemucs_tiny") + "/separate.npy").toStdString());
        for (int i = 0; i < 4; ++i) {
            AudioBuffer b = decodeAudio(item->result.stemFile(item->result.stems[i]).toStdString());
            const at::Tensor got =
                at::from_blob(b.samples.data(), {2, b.frames()}, at::kFloat) / item->result.gain;
            QVERIFY(test::relativeError(got, ref[i]) < 1e-4);
        }
        QCOMPARE(Library(dir.path()).load().size(), 1);
        QVERIFY(hiddenFolders(dir.path()).isEmpty());

        // The library's results come after this session's rows.
        model.setRecords(Library(dir.path()).load());
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.queueIdAt(0), id);
        QCOMPARE(model.queueIdAt(1), 0);
        QVERIFY(model.recordAt(1));
        QVERIFY(queue.remove(id));
        model.removeAt(0);
        QCOMPARE(model.rowCount(), 1);
        QVERIFY(!queue.busy());
    }

    // Loaded models are kept for the next job, within a limit on their weights: the least
    // recently used goes first, the one in use stays.
    void modelCacheKeepsTheRecentlyUsed() {
        QTemporaryDir dir;
        JobQueue queue;
        JobConfig config = tinyConfig(dir.path());
        const auto run = [&](const char* model) {
            config.separation.model = model;
            queue.setConfig(config);
            const int id = queue.enqueue(songPath());
            return waitForEnd(queue, id) && queue.item(id)->state == JobQueue::State::Done;
        };
        QVERIFY(run("htdemucs_tiny"));
        QVERIFY(run("hdemucs_tiny"));
        QCOMPARE(queue.cachedModels().size(), 2);  // both fit the default 2 GB
        queue.setModelCacheLimit(1);
        QVERIFY(run("htdemucs_tiny"));
        QCOMPARE(queue.cachedModels(), QStringList({"htdemucs_tiny"}));
        QVERIFY(run("hdemucs_tiny"));
        QCOMPARE(queue.cachedModels(), QStringList({"hdemucs_tiny"}));
    }

    // The disk fills up in the middle of a separation (here: a file size limit, which fails
    // writes the same way): the job fails saying so and leaves nothing in the library.
    void aFullDiskFailsTheJobAndLeavesNothing() {
        QTemporaryDir dir;
        JobQueue queue;
        queue.setConfig(tinyConfig(dir.path()));
        rlimit old{};
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
        signal(SIGXFSZ, SIG_IGN);
        rlimit small = old;
        small.rlim_cur = 1 << 20;  // the stems' spools need 3 MB each
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
        const int id = queue.enqueue(songPath());
        const bool ended = waitForEnd(queue, id);
        setrlimit(RLIMIT_FSIZE, &old);
        QVERIFY(ended);
        const auto* item = queue.item(id);
        QCOMPARE(int(item->state), int(JobQueue::State::Failed));
        QVERIFY2(item->error.contains("cannot write"), qPrintable(item->error));
        QVERIFY(Library(dir.path()).load().isEmpty());
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList());
    }

    void cancelledAndFailedJobsLeaveNothing() {
        QTemporaryDir dir;
        JobQueue queue;
        JobListModel model(&queue);
        queue.setConfig(tinyConfig(dir.path()));
        const int running = queue.enqueue(songPath());
        const int waiting = queue.enqueue(songPath());  // one at a time: this one waits
        queue.cancel(waiting);
        queue.cancel(running);
        QVERIFY(waitForEnd(queue, running));
        QVERIFY(waitForEnd(queue, waiting));
        QCOMPARE(int(queue.item(running)->state), int(JobQueue::State::Cancelled));
        QCOMPARE(int(queue.item(waiting)->state), int(JobQueue::State::Cancelled));
        QVERIFY(QDir(dir.path())
                    .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot)
                    .isEmpty());

        QTemporaryDir other;
        const QString text = other.filePath("notes.wav");  // not audio, whatever its name says
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a song");
        f.close();
        const int bad = queue.enqueue(text);
        QVERIFY(waitForEnd(queue, bad));
        QCOMPARE(int(queue.item(bad)->state), int(JobQueue::State::Failed));
        const QModelIndex row = model.index(model.rowOfQueueId(bad));
        QVERIFY(!row.data(JobListModel::ErrorRole).toString().isEmpty());
        QVERIFY(row.data(JobListModel::ErrorRole).toString().contains("notes.wav"));
        QVERIFY(!model.recordAt(row.row()));
        QVERIFY(QDir(dir.path())
                    .entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot)
                    .isEmpty());
    }

    // --two-stems: the stem and the others summed (or the mix minus the stem), as demucs writes.
    void twoStemsSumToTheEstimate() {
        SeparationSettings s;
        s.model = "htdemucs_tiny";
        s.repo = test::repoDir().toStdString();
        s.options.shifts = 0;
        LoadedModel model = loadSeparationModel(s);
        AudioBuffer mix;
        mix.sampleRate = 44100;
        mix.channels = 2;
        at::Tensor wav = test::caseMix("htdemucs_tiny").slice(1, 0, 44100 * 2).contiguous();
        mix.samples.assign(wav.data_ptr<float>(), wav.data_ptr<float>() + wav.numel());
        auto all = separateAudio(model, mix, s);
        QCOMPARE(all.size(), size_t(4));
        s.twoStems = "vocals";
        auto two = separateAudio(model, mix, s);
        QCOMPARE(two.size(), size_t(2));
        QCOMPARE(two[0].name, std::string("vocals"));
        QCOMPARE(two[1].name, std::string("no_vocals"));
        for (size_t i = 0; i < two[0].audio.samples.size(); i += 997) {
            QCOMPARE(two[0].audio.samples[i], all[3].audio.samples[i]);
            const float others =
                all[0].audio.samples[i] + all[1].audio.samples[i] + all[2].audio.samples[i];
            QVERIFY(std::abs(two[1].audio.samples[i] - others) < 1e-5f);
        }
        s.twoStems = "kazoo";
        try {
            separateAudio(model, mix, s);
            QFAIL("an unknown stem was accepted");
        } catch (const Error& e) {
            QVERIFY(QString(e.what()).contains("drums, bass, other, vocals"));
        }
    }

    // separateFile streams the file through the engine; its stems equal those of the whole
    // decoded song, sample for sample, for every reference case and every two-stems method.
    void streamedFileEqualsWholeSong_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("twoStems");
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("shifts");
        for (const QString& n : test::parityCases())
            QTest::newRow(qPrintable(n)) << n << QString() << QString("add") << 1;
        QTest::newRow("add") << "htdemucs_tiny"
                             << "vocals"
                             << "add" << 2;
        QTest::newRow("minus") << "hdemucs_tiny"
                               << "drums"
                               << "minus" << 1;
        QTest::newRow("none") << "htdemucs6_tiny_bottom"
                              << "guitar"
                              << "none" << 0;
    }
    void streamedFileEqualsWholeSong() {
        QFETCH(QString, name);
        QFETCH(QString, twoStems);
        QFETCH(QString, method);
        QFETCH(int, shifts);
        SeparationSettings s;
        s.model = name.toStdString();
        s.repo = test::repoDir().toStdString();
        s.options.shifts = shifts;
        s.options.seed = 11;
        if (!twoStems.isEmpty()) s.twoStems = twoStems.toStdString();
        s.otherMethod = method.toStdString();
        const LoadedModel model = loadSeparationModel(s);
        const QString input = test::caseDir(name) + "/input.wav";
        const auto whole = separateAudio(model, decodeAudio(input.toStdString()), s);
        QCOMPARE(whole.size(), outputStems(model, s).size());
        std::vector<std::vector<float>> streamed(whole.size());
        int64_t written = 0, blocks = 0;
        const int64_t frames = whole[0].audio.frames();
        for (auto& st : streamed)
            st.resize(size_t(2 * frames));
        const AudioInfo info =
            separateFile(model, input.toStdString(), s, [&](const float* stems, int64_t n) {
                for (size_t k = 0; k < streamed.size(); ++k)
                    for (int64_t c = 0; c < 2; ++c)
                        std::copy_n(stems + (int64_t(k) * 2 + c) * n, n,
                                    streamed[k].data() + c * frames + written);
                written += n;
                ++blocks;
            });
        QCOMPARE(written, frames);
        QCOMPARE(info.durationSeconds, double(frames) / 44100);
        for (size_t k = 0; k < whole.size(); ++k)
            QVERIFY2(streamed[k] == whole[k].audio.samples, whole[k].name.c_str());
    }

    // Export streams each stem from its file (no whole stem in memory) and writes what the
    // whole-buffer way wrote: the stems back at the model's level (the library's gain undone),
    // no_STEM the others summed, and the clip mode applied as encodeAudio applies it.
    void exportStreamsWhatTheWholeWouldWrite_data() {
        QTest::addColumn<int>("clip");
        QTest::addColumn<QString>("twoStems");
        QTest::newRow("rescale") << int(ClipMode::Rescale) << QString();
        QTest::newRow("clamp") << int(ClipMode::Clamp) << QString();
        QTest::newRow("two stems") << int(ClipMode::Rescale) << QString("vocals");
    }
    void exportStreamsWhatTheWholeWouldWrite() {
        QFETCH(int, clip);
        QFETCH(QString, twoStems);
        QTemporaryDir dir;
        JobRecord r;
        r.folder = dir.filePath("result");
        r.title = "Song";
        r.stems = {"drums", "bass", "vocals"};
        r.extension = "flac";
        r.gain = 0.7;  // loud stems: back at the model's level they pass full scale
        QVERIFY(QDir().mkpath(r.folder));
        EncodeOptions flac;
        flac.format = FileFormat::Flac;
        flac.depth = SampleFormat::Int24;
        flac.clip = ClipMode::None;
        std::vector<AudioBuffer> levelled;  // what the stems hold at the model's level
        for (int k = 0; k < 3; ++k) {
            AudioBuffer b;
            b.samples.resize(2 * 150000);  // 3.4 s: a few blocks
            for (size_t i = 0; i < b.samples.size(); ++i)
                b.samples[i] = 0.6f * std::sin(float(i) * (0.01f + 0.005f * float(k)));
            encodeAudio(r.stemFile(r.stems[k]).toStdString(), b, flac);
            AudioBuffer back = decodeAudio(r.stemFile(r.stems[k]).toStdString());
            for (float& x : back.samples)
                x = static_cast<float>(x / r.gain);
            levelled.push_back(back);
        }
        ExportOptions o;
        o.destination = dir.filePath("export");
        o.encode.format = FileFormat::Wav;
        o.encode.depth = SampleFormat::Int24;
        o.encode.clip = ClipMode(clip);
        o.stems = {"drums", "vocals"};
        o.twoStems = twoStems;
        const QStringList written = exportStems(r, o);
        QCOMPARE(written, exportTargets(r, o));
        QCOMPARE(written.size(), 2);
        // The expected files, written from whole buffers.
        std::vector<AudioBuffer> expected;
        if (twoStems.isEmpty()) {
            expected = {levelled[0], levelled[2]};
        } else {
            AudioBuffer rest = levelled[0];
            for (size_t i = 0; i < rest.samples.size(); ++i)
                rest.samples[i] += levelled[1].samples[i];
            expected = {levelled[2], rest};
        }
        for (int k = 0; k < 2; ++k) {
            const QString want = dir.filePath(QString("want%1.wav").arg(k));
            encodeAudio(want.toStdString(), expected[size_t(k)], o.encode);
            QFile a(want), b(written[k]);
            QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
            QVERIFY2(a.readAll() == b.readAll(), qPrintable(written[k]));
        }
        // No spool or temporary file is left beside them.
        QStringList names{QFileInfo(written[0]).fileName(), QFileInfo(written[1]).fileName()};
        names.sort();
        QCOMPARE(QDir(QFileInfo(written[0]).absolutePath()).entryList(QDir::Hidden | QDir::Files),
                 names);
    }

    // "The mix as heard" with the player's tempo and pitch: stretched once after the sum.
    void exportedMixHasThePlayersTempoAndPitch() {
        QTemporaryDir dir;
        JobRecord r;
        r.folder = dir.filePath("result");
        r.title = "Song";
        r.stems = {"vocals", "drums"};
        r.extension = "flac";
        QVERIFY(QDir().mkpath(r.folder));
        EncodeOptions flac;
        flac.format = FileFormat::Flac;
        flac.depth = SampleFormat::Int24;
        for (int k = 0; k < 2; ++k) {
            AudioBuffer b;
            b.samples.resize(2 * 3 * 44100);
            for (size_t i = 0; i < 3 * 44100; ++i)  // 440 Hz in vocals, 3 kHz in drums
                b.samples[i] = b.samples[3 * 44100 + i] =
                    0.3f * std::sin(2 * float(M_PI) * (k ? 3000.0f : 440.0f) * float(i) / 44100);
            encodeAudio(r.stemFile(r.stems[k]).toStdString(), b, flac);
        }
        ExportOptions o;
        o.destination = dir.filePath("export");
        o.encode.format = FileFormat::Wav;
        o.encode.depth = SampleFormat::Float32;
        o.currentMix = {{"vocals", 1, 1}, {"drums", 0, 0}};  // drums muted in the player
        o.mixTempo = 0.5;
        o.mixSemitones = 12;
        const QStringList written = exportStems(r, o);
        QCOMPARE(written.size(), 1);
        const AudioBuffer mix = decodeAudio(written[0].toStdString());
        QCOMPARE(mix.frames(), int64_t(6 * 44100));
        int crossings = 0;  // 880 Hz over 2 s in the middle, no 3 kHz
        for (int64_t i = 2 * 44100 + 1; i < 4 * 44100; ++i)
            crossings += mix.channel(0)[i - 1] < 0 && mix.channel(0)[i] >= 0;
        QVERIFY2(std::abs(crossings - 1760) < 18, qPrintable(QString::number(crossings)));
    }

    void scanFindsSongsInFoldersAndSkipsTheRest() {
        QTemporaryDir dir;
        QVERIFY(QDir().mkpath(dir.filePath("album/disc 2")));
        writeTone(dir.filePath("album/b.wav"), 0.2);
        writeTone(dir.filePath("album/disc 2/a.flac"), 0.2);
        QFile notes(dir.filePath("album/notes.txt"));
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("lyrics");
        notes.close();
        writeTone(dir.filePath("single.wav"), 0.2);
        const SongScan scan = scanForSongs(
            {dir.filePath("album"), dir.filePath("single.wav"), dir.filePath("album")});
        QCOMPARE(scan.songs,
                 QStringList({dir.filePath("album/b.wav"), dir.filePath("album/disc 2/a.flac"),
                              dir.filePath("single.wav")}));
        QCOMPARE(scan.skipped, QStringList({"notes.txt"}));
        QCOMPARE(scanForSongs({dir.filePath("missing.wav")}).skipped, QStringList({"missing.wav"}));
        int asked = 0;
        const SongScan stopped = scanForSongs({dir.filePath("album")}, [&] { return ++asked > 1; });
        QCOMPARE(stopped.songs.size() + stopped.skipped.size(), 1);
    }

    void settingsBecomeTheJobConfig() {
        AppSettings s;
        const JobConfig defaults = jobConfigFrom(s, "/lib");
        QCOMPARE(defaults.separation.options.shifts, engine::defaultOptions().shifts);
        QCOMPARE(defaults.separation.options.overlap, engine::defaultOptions().overlap);
        QVERIFY(!defaults.separation.options.segment);
        QCOMPARE(defaults.separation.device, std::string(engine::kDefaultDevice));
        QCOMPARE(defaults.format, QString(defaults::kLibraryFormat));
        QVERIFY(!defaults.remote.enabled());

        s.setModel("htdemucs_6s");
        s.setShifts(3);
        s.setOverlap(0.5);
        s.setSegment(7);
        s.setDevice("cpu");
        s.setThreads(2);
        s.setCpuJobs(3);
        s.setResultFormat("wav32f");
        s.setModelCache("/models");
        s.setRemoteUrl("http://gpu-box:8000");
        s.setRemoteToken("secret");
        const JobConfig c = jobConfigFrom(s, "/lib");
        QCOMPARE(c.separation.model, std::string("htdemucs_6s"));
        QCOMPARE(c.separation.repo, std::string("/models"));
        QCOMPARE(c.separation.options.shifts, 3);
        QCOMPARE(c.separation.options.overlap, 0.5);
        QCOMPARE(*c.separation.options.segment, 7.0);
        QCOMPARE(c.separation.device, std::string("cpu"));
        QCOMPARE(c.threads, 2);
        QCOMPARE(c.cpuJobs, 3);
        QCOMPARE(c.format, QString("wav32f"));
        QCOMPARE(c.libraryRoot, QString("/lib"));
        QVERIFY(c.remote.enabled());
        QCOMPARE(c.remote.server, QUrl("http://gpu-box:8000"));
        QCOMPARE(c.remote.token, QString("secret"));
    }
};

// Settings, library and caches in a temporary home, never the user's.
int main(int argc, char** argv) {
    return test::isolatedMain<TestJobs, QCoreApplication>(argc, argv);
}
#include "test_jobs.moc"
