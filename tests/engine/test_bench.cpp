// music-split-cli bench: a full-size model with random weights timed on generated audio; what it
// prints is what the README's speed table is made of.
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

namespace {

struct Run {
    int status = -1;
    QString out, err;
};

Run bench(const QStringList& args) {
    QProcess cli;
    cli.start(MUSIC_SPLIT_CLI, QStringList{"bench"} + args);
    Run r;
    if (!cli.waitForFinished(300000)) return r;
    r.status = cli.exitStatus() == QProcess::NormalExit ? cli.exitCode() : -1;
    r.out = cli.readAllStandardOutput();
    r.err = cli.readAllStandardError();
    return r;
}

double number(const QString& text, const QString& pattern) {
    const auto m = QRegularExpression(pattern).match(text);
    return m.hasMatch() ? m.captured(1).toDouble() : -1;
}

}  // namespace

class TestBench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void reportsTimeAndMemoryOfTheOfficialLayout() {
        const Run r = bench({"--seconds", "2", "--shifts", "0"});
        QVERIFY2(r.status == 0, qPrintable(r.err));
        // The released htdemucs has exactly this many parameters.
        QVERIFY2(r.out.contains("htdemucs (41984456 parameters, random weights)"),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains("audio        2.0 s stereo at 44100 Hz"), qPrintable(r.out));
        // The program executed itself again with libgomp's threads sleeping between regions
        // (the test runner does not set OMP_WAIT_POLICY).
        if (qEnvironmentVariableIsEmpty("OMP_WAIT_POLICY"))
            QVERIFY2(r.out.contains("OpenMP waits PASSIVE"), qPrintable(r.out));
        const double seconds = number(r.out, R"(time\s+([0-9.]+) s)");
        QVERIFY2(seconds > 0, qPrintable(r.out));
        const double peak = number(r.out, R"(peak memory\s+([0-9]+) MB)");
        const double before = number(r.out, R"(; ([0-9]+) MB before the model)");
        QVERIFY2(peak > 168 && before > 0 && peak > before, qPrintable(r.out));  // 168 MB weights
        const double tensors = number(r.out, R"(peak tensors\s+([0-9]+) MB)");
        QVERIFY2(tensors >= 168 && tensors < peak, qPrintable(r.out));
    }

    void badSettingsFailInOneLine() {
        // A command line refused as such exits 2 (app/exit_codes.h); settings the engine
        // refuses exit 1, as every command does.
        const QList<QPair<QStringList, int>> cases = {
            {{"--seconds", "0"}, 2},
            {{"--seconds", "x"}, 2},
            {{"--config", "nope"}, 1},
            {{"--device", "tpu"}, 1},
            {{"--device", "cpu", "--precision", "float16"}, 1}};
        for (const auto& [args, status] : cases) {
            const Run r = bench(args);
            QVERIFY2(r.status == status, qPrintable(args.join(' ')));
            QVERIFY2(r.err.startsWith("music-split-cli: ") && r.err.count('\n') == 1,
                     qPrintable(r.err));
            QVERIFY(r.out.isEmpty());
        }
    }
};

QTEST_GUILESS_MAIN(TestBench)
#include "test_bench.moc"
