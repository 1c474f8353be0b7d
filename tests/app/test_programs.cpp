// Every program's command line: the same exit codes everywhere (0 done, 1 the work failed, 2 the
// command line was refused, app/exit_codes.h), one line on stderr for a refusal, and parsing
// that does nothing else (no download, no folder) before the whole command line is accepted.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
    int status = -1;
    QString out, err;
    QByteArray outBytes;  // stdout as it came (binary for --stdout)
};

Run run(const QString& program, const QStringList& args, const QString& home) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* var : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"})
        env.insert(var, home + "/" + var);
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.start(program, args);
    Run r;
    if (!p.waitForFinished(60000)) return r;
    r.status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.outBytes = p.readAllStandardOutput();
    r.out = QString::fromUtf8(r.outBytes);
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// The reference case's 4 s song `times` over, as DIR/long.wav; empty if ffmpeg failed.
QString longSong(const QTemporaryDir& dir, int times) {
    const QString path = dir.filePath("long.wav");
    QProcess make;
    make.start("ffmpeg", {"-v", "error", "-y", "-stream_loop", QString::number(times - 1), "-i",
                          MUSIC_SPLIT_FIXTURES "/htdemucs_tiny/input.wav", path});
    const bool ok = make.waitForFinished(60000) && make.exitCode() == 0;
    return ok ? path : QString();
}

// Nothing listens there: a download would fail, slowly or at once, but visibly.
const QString kDeadServer = "http://127.0.0.1:9";

}  // namespace

class TestPrograms : public QObject {
    Q_OBJECT
    QTemporaryDir home_;

private Q_SLOTS:
    void refusedCommandLinesExitTwo_data() {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QStringList>("args");
        const QString cli = MUSIC_SPLIT_CLI, server = MUSIC_SPLIT_SERVER, gui = MUSIC_SPLIT_GUI;
        QTest::newRow("cli option") << cli << QStringList{"--nope"};
        QTest::newRow("cli command") << cli << QStringList{"frobnicate"};
        QTest::newRow("cli nothing") << cli << QStringList{};
        QTest::newRow("separate option") << cli << QStringList{"separate", "a.wav", "--nope"};
        QTest::newRow("separate no input") << cli << QStringList{"separate"};
        QTest::newRow("separate number")
            << cli << QStringList{"separate", "a.wav", "--shifts", "x"};
        QTest::newRow("separate formats")
            << cli << QStringList{"separate", "a.wav", "--flac", "--float32"};
        QTest::newRow("separate clip")
            << cli << QStringList{"separate", "a.wav", "--clip-mode", "?"};
        QTest::newRow("separate remote")
            << cli << QStringList{"separate", "a.wav", "--remote", "x"};
        QTest::newRow("models action") << cli << QStringList{"models", "frobnicate"};
        QTest::newRow("models option") << cli << QStringList{"models", "list", "--nope"};
        QTest::newRow("bench seconds") << cli << QStringList{"bench", "--seconds", "0"};
        QTest::newRow("server option") << server << QStringList{"--nope"};
        QTest::newRow("server number") << server << QStringList{"--port", "eighty"};
        QTest::newRow("gui option") << gui << QStringList{"--nope"};
    }
    void refusedCommandLinesExitTwo() {
        QFETCH(QString, program);
        QFETCH(QStringList, args);
        const Run r = run(program, args, home_.path());
        QCOMPARE(r.status, 2);
        QVERIFY2(!r.err.trimmed().isEmpty(), "nothing said why");
        QVERIFY2(r.out.isEmpty(), qPrintable(r.out));
    }

    void helpAndVersionExitZero_data() {
        QTest::addColumn<QString>("program");
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        const QString cli = MUSIC_SPLIT_CLI, server = MUSIC_SPLIT_SERVER, gui = MUSIC_SPLIT_GUI;
        QTest::newRow("cli help") << cli << QStringList{"--help"} << "commands:";
        QTest::newRow("cli version") << cli << QStringList{"--version"} << "music-split-cli ";
        QTest::newRow("separate help") << cli << QStringList{"separate", "--help"} << "--shifts";
        QTest::newRow("models help") << cli << QStringList{"models", "--help"} << "download";
        QTest::newRow("bench help") << cli << QStringList{"bench", "--help"} << "--seconds";
        QTest::newRow("server help") << server << QStringList{"--help"} << "--max-pending";
        QTest::newRow("server version")
            << server << QStringList{"--version"} << "music-split-server ";
        QTest::newRow("gui help") << gui << QStringList{"--help"} << "FILE";
        QTest::newRow("gui version") << gui << QStringList{"--version"} << "music-split ";
    }
    void helpAndVersionExitZero() {
        QFETCH(QString, program);
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        const Run r = run(program, args, home_.path());
        QCOMPARE(r.status, 0);
        QVERIFY2(r.out.contains(expected), qPrintable(r.out));
    }

    // The defaults shown are the engine's (engine::defaultOptions()), the same in every program.
    void defaultsComeFromOnePlace() {
        const Run separate = run(MUSIC_SPLIT_CLI, {"separate", "--help"}, home_.path());
        const Run server = run(MUSIC_SPLIT_SERVER, {"--help"}, home_.path());
        const Run bench = run(MUSIC_SPLIT_CLI, {"bench", "--help"}, home_.path());
        for (const QString& text : {separate.out, server.out, bench.out}) {
            QVERIFY2(text.contains(QRegularExpression(R"(--shifts <N>[^<]*\(default:\s+1\))")),
                     qPrintable(text));
            QVERIFY2(text.contains(QRegularExpression(R"(--overlap <F>[^<]*\(default:\s+0.25\))")),
                     qPrintable(text));
        }
    }

    // A refused command line downloads nothing and leaves no folder, even when the model it
    // names is missing: the whole line is checked before any work starts.
    void parsingHasNoSideEffects() {
        QTemporaryDir cache;
        const QString models = cache.filePath("models");
        const Run r = run(MUSIC_SPLIT_CLI,
                          {"separate", "song.wav", "-n", "htdemucs", "--cache", models,
                           "--base-url", kDeadServer, "--overlap", "lots"},
                          home_.path());
        QCOMPARE(r.status, 2);
        QVERIFY2(r.err.contains("--overlap"), qPrintable(r.err));
        QVERIFY2(!r.err.contains("127.0.0.1"), qPrintable(r.err));
        QVERIFY(!QDir(models).exists());
        // The same line, accepted, fails at the work with 1 and says why.
        const Run work = run(MUSIC_SPLIT_CLI,
                             {"separate", "song.wav", "-n", "htdemucs", "--cache", models,
                              "--base-url", kDeadServer},
                             home_.path());
        QCOMPARE(work.status, 1);
        QVERIFY2(work.err.startsWith("music-split-cli: "), qPrintable(work.err));
    }

    void failedWorkExitsOne() {
        const Run missing = run(MUSIC_SPLIT_CLI,
                                {"separate", home_.filePath("missing.wav"), "--repo",
                                 MUSIC_SPLIT_FIXTURES "/repo", "-n", "htdemucs_tiny"},
                                home_.path());
        QCOMPARE(missing.status, 1);
        QVERIFY2(missing.err.contains("missing.wav"), qPrintable(missing.err));
        const Run unknown = run(MUSIC_SPLIT_CLI, {"bench", "--config", "nope"}, home_.path());
        QCOMPARE(unknown.status, 1);
    }

    // --stdout: the stem as a WAV stream equal, sample for sample, to the file a run with the
    // same seed writes (--stdout clamps rather than rescales), and nothing else on stdout.
    void stdoutStreamEqualsTheFile() {
        const QString repo = MUSIC_SPLIT_FIXTURES "/repo";
        const QString input = MUSIC_SPLIT_FIXTURES "/htdemucs_tiny/input.wav";
        const QStringList common = {"separate",      input,    "--repo", repo,       "-n",
                                    "htdemucs_tiny", "--seed", "4",      "--shifts", "1"};
        const Run streamed =
            run(MUSIC_SPLIT_CLI, common + QStringList{"--stdout", "vocals"}, home_.path());
        QVERIFY2(streamed.status == 0, qPrintable(streamed.err));
        QTemporaryDir out;
        const Run file =
            run(MUSIC_SPLIT_CLI, common + QStringList{"--clip-mode", "clamp", "-o", out.path()},
                home_.path());
        QVERIFY2(file.status == 0, qPrintable(file.err));
        QFile written(out.path() + "/htdemucs_tiny/input/vocals.wav");
        QVERIFY(written.open(QIODevice::ReadOnly));
        const QByteArray expected = written.readAll();
        // The same samples; the stream's header leaves the length open, as FFmpeg's on a pipe.
        QVERIFY(QByteArray(streamed.outBytes.left(4)) == "RIFF");
        QCOMPARE(streamed.outBytes.mid(4, 4), QByteArray("\xff\xff\xff\xff", 4));
        const qsizetype data = streamed.outBytes.indexOf("data") + 8;
        const qsizetype fileData = expected.indexOf("data") + 8;
        QVERIFY(data > 8 && fileData > 8);
        QCOMPARE(streamed.outBytes.size() - data, expected.size() - fileData);
        QVERIFY(streamed.outBytes.mid(data) == expected.mid(fileData));
    }

    // A reader that goes away stops the separation at once, with one line and status 1,
    // leaving nothing behind.
    void stdoutReaderGoingAwayStopsIt() {
        QTemporaryDir dir;
        QVERIFY(!longSong(dir, 8).isEmpty());  // 32 s
        // As a user would: the CLI's stdout into `head -c 1000`, which reads and leaves.
        QProcess shell;
        shell.setWorkingDirectory(dir.path());
        QElapsedTimer clock;
        clock.start();
        shell.start("bash", {"-c",
                             "set -o pipefail; \"$0\" separate long.wav --repo \"$1\" -n "
                             "htdemucs_tiny --stdout drums 2>err.txt | head -c 1000 | wc -c",
                             MUSIC_SPLIT_CLI, MUSIC_SPLIT_FIXTURES "/repo"});
        QVERIFY(shell.waitForFinished(120000));
        qInfo("the pipeline ended after %lld ms", clock.elapsed());
        QCOMPARE(shell.readAllStandardOutput().trimmed(), QByteArray("1000"));
        QCOMPARE(shell.exitCode(), 1);  // the CLI's status, through pipefail
        QFile err(dir.filePath("err.txt"));
        QVERIFY(err.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(err.readAll());
        QVERIFY2(text.contains("music-split-cli: ") && text.contains("went away"),
                 qPrintable(text));
        err.close();
        QVERIFY(err.remove());
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList({"long.wav"}));
    }

    // kill -9 in the middle of a separation: the stems are written as they come, but never
    // under their final names until complete (hidden temporaries, nameless spools).
    void killedMidSeparationLeavesNoFinalNames() {
        QTemporaryDir dir;
        const QString input = longSong(dir, 30);  // 2 min
        QVERIFY(!input.isEmpty());
        for (const QString clip : {"rescale", "none"}) {  // spooled, and written as they come
            const QString out = dir.filePath("out-" + clip);
            QProcess cli;
            cli.start(MUSIC_SPLIT_CLI, {"separate", input, "--repo", MUSIC_SPLIT_FIXTURES "/repo",
                                        "-n", "htdemucs_tiny", "--clip-mode", clip, "-o", out});
            cli.setReadChannel(QProcess::StandardError);
            QByteArray err;
            while (!err.contains("Separating") && cli.waitForReadyRead(60000))
                err += cli.readAllStandardError();
            QTest::qWait(3000);  // a few segments in: some stems written, not all
            QCOMPARE(cli.state(), QProcess::Running);
            cli.kill();  // SIGKILL
            QVERIFY(cli.waitForFinished(10000));
            const QString stems = out + "/htdemucs_tiny/long";
            QCOMPARE(QDir(stems).entryList({"*.wav"}, QDir::Files), QStringList());
            if (clip == "none")  // they were being written, under hidden temporary names
                QCOMPARE(QDir(stems).entryList({".*.part"}, QDir::Files | QDir::Hidden).size(), 4);
        }
    }

    // An export killed half-way (SIGKILL: no chance to tidy up) leaves the file it replaces as it
    // was: the new one is written under a temporary name and renamed only when whole.
    void killedMixKeepsTheFileItReplaces() {
        QTemporaryDir dir;
        const QString input = longSong(dir, 30);  // 2 min
        QVERIFY(!input.isEmpty());
        QDir().mkpath(dir.filePath("stems"));
        for (const QString stem : {"drums", "bass"})
            QVERIFY(QFile::copy(input, dir.filePath("stems/" + stem + ".wav")));
        const QString out = dir.filePath("practice.flac");
        {
            QFile old(out);
            QVERIFY(old.open(QIODevice::WriteOnly));
            old.write("the mix made yesterday");
        }
        QProcess cli;
        // Clamped, the mix is written as it is made (rescaling would read the song once first).
        cli.start(MUSIC_SPLIT_CLI, {"mix", dir.filePath("stems"), "-o", out, "--tempo", "0.5",
                                    "--semitones", "3", "--clip-mode", "clamp"});
        QVERIFY(cli.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(  // writing has begun: a hidden temporary file beside it
            !QDir(dir.path()).entryList({".practice.flac*"}, QDir::Files | QDir::Hidden).isEmpty(),
            30000);
        QCOMPARE(cli.state(), QProcess::Running);
        cli.kill();
        QVERIFY(cli.waitForFinished(10000));
        QFile kept(out);
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), QByteArray("the mix made yesterday"));
    }

    void stdoutRefusesWhatAStreamCannotDo() {
        const QString input = MUSIC_SPLIT_FIXTURES "/htdemucs_tiny/input.wav";
        for (const QStringList& extra :
             {QStringList{"--clip-mode", "rescale"}, QStringList{"--flac"}, QStringList{input}}) {
            const Run r =
                run(MUSIC_SPLIT_CLI, QStringList{"separate", input, "--stdout", "vocals"} + extra,
                    home_.path());
            QCOMPARE(r.status, 2);
            QVERIFY2(r.err.contains("--stdout"), qPrintable(r.err));
        }
        const Run unknown = run(MUSIC_SPLIT_CLI,
                                {"separate", input, "--repo", MUSIC_SPLIT_FIXTURES "/repo", "-n",
                                 "htdemucs_tiny", "--stdout", "kazoo"},
                                home_.path());
        QCOMPARE(unknown.status, 1);
        QVERIFY2(unknown.err.contains("drums, bass, other, vocals"), qPrintable(unknown.err));
        QVERIFY(unknown.outBytes.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPrograms)
#include "test_programs.moc"
