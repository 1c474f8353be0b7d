// Errors the windows meet on their own (a model folder that cannot be used, a song whose beats
// cannot be found) are shown to the user, not swallowed.
#include <QFile>
#include <QLabel>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include "core/settings.h"
#include "tests/common/isolated_app.h"
#include "ui/main_window.h"
#include "ui/track_view.h"

using namespace msplit;

namespace {

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

}  // namespace

class TestWindowErrors : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Two model files with one signature: the folder cannot be read, and the window says why.
    // A folder not made yet is a first start, not an error.
    void modelFolderProblemsAreShown() {
        QTemporaryDir models;
        AppSettings s;
        s.setModelCache(models.filePath("not-yet"));
        {
            ui::MainWindow w;
            w.confirmQuit = false;
            QCOMPARE(w.statusBar()->currentMessage(), QString("Ready"));
        }
        writeFile(models.filePath("955717e8-11111111.th"), "a");
        writeFile(models.filePath("955717e8-22222222.th"), "b");
        s.setModelCache(models.path());
        ui::MainWindow w;
        w.confirmQuit = false;
        const QString shown = w.statusBar()->currentMessage();
        QVERIFY2(shown.contains("The model folder cannot be read") &&
                     shown.contains("more than one model file has the signature 955717e8"),
                 qPrintable(shown));
    }

    // A stem that is not audio: the beat and chord finder says why it found nothing.
    void analysisFailureIsShown() {
        QTemporaryDir dir;
        writeFile(dir.filePath("drums.wav"), "RIFF but not a wave at all");
        JobRecord r;
        r.folder = dir.path();
        r.title = "Broken";
        r.model = "htdemucs";
        r.stems = {"drums"};
        r.extension = "wav";
        ui::TrackView view;
        view.showRecord(r);
        auto* label = view.findChild<QLabel*>("analysisLabel");
        QTRY_VERIFY_WITH_TIMEOUT(label->text().startsWith("Beats and chords cannot be found: "),
                                 20000);
        QVERIFY2(label->text().contains("drums.wav"), qPrintable(label->text()));
    }
};

int main(int argc, char** argv) {
    return msplit::test::isolatedMain<TestWindowErrors, QApplication>(argc, argv);
}

#include "test_window_errors.moc"
