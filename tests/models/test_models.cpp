// The model catalog and cache against a real HTTP server on 127.0.0.1 serving the fixture repo:
// download with progress, verification, resume after a dropped connection, clear errors, reuse of
// the torch hub cache, import, verify and remove, and a separation with what was downloaded.
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/error.h"
#include "core/models/catalog.h"
#include "core/models/downloader.h"
#include "core/models/local_repo.h"
#include "core/models/model_store.h"
#include "tests/common/cli_stems.h"
#include "tests/common/file_server.h"

using namespace msplit;

namespace {

const char* kTinyFile = "91f11081-2942f0c2.th";
const QStringList kBagFiles = {"0b3587df-fed01d05.th", "b232c72b-f13831cf.th",
                               "5934a89f-55b37132.th", "f90a9184-a268202e.th"};

// A catalog of fixture models served from FIXTURES/repo/.
QString testCatalog(const QString& baseUrl) {
    return QString(R"(base_url: %1
models:
  htdemucs_tiny:
    description: "tiny htdemucs"
    stems: [drums, bass, other, vocals]
    files: [repo/%2]
  htdemucs_ft_bag_tiny:
    stems: [drums, bass, other, vocals]
    files: [repo/%3, repo/%4, repo/%5, repo/%6]
    weights: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
)")
        .arg(baseUrl, kTinyFile, kBagFiles[0], kBagFiles[1], kBagFiles[2], kBagFiles[3]);
}

// Runs the downloader to its end on this thread's event loop; returns the error ("" when fine).
QString download(ModelDownloader& d, const CatalogModel& m,
                 QList<DownloadProgress>* progress = nullptr) {
    QSignalSpy done(&d, &ModelDownloader::finished);
    QObject::connect(&d, &ModelDownloader::progress, &d, [progress](const DownloadProgress& p) {
        if (progress) *progress << p;
    });
    d.start(m);
    if (done.isEmpty() && !done.wait(60000)) return "timed out";
    return done.first().at(0).toBool() ? QString() : done.first().at(1).toString();
}

QStringList filesIn(const QString& dir) {
    return QDir(dir).entryList(QDir::Files | QDir::Hidden, QDir::Name);
}

// Replaces `path` by a copy with a few bytes changed. A new file, never a write in place: the
// store hard-links imported files, and the originals (the shared fixtures) must stay intact.
bool damagedCopy(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return false;
    QByteArray bytes = f.readAll();
    f.close();
    bytes.replace(5000, 4, "xxxx");
    if (!QFile::remove(path) || !f.open(QIODevice::WriteOnly)) return false;
    return f.write(bytes) == bytes.size();
}

}  // namespace

class TestModels : public QObject {
    Q_OBJECT
    std::unique_ptr<test::FileServer> server_;
    std::unique_ptr<QTemporaryDir> cache_;
    Catalog catalog_;
    QString cacheDir() const { return cache_->path(); }

private Q_SLOTS:
    // The demucs --repo rules: checksums in file names, bags, unknown names, broken YAML.
    void localRepoChecksAndResolves() {
        LocalRepo repo(test::repoDir().toStdString());
        QVERIFY(repo.has("htdemucs_ft_bag_tiny"));
        QVERIFY(repo.has("91f11081"));
        BagSpec bag = repo.resolve("htdemucs_ft_bag_tiny");
        QCOMPARE(bag.files.size(), size_t(4));
        QCOMPARE(bag.weights.size(), size_t(4));
        QCOMPARE(bag.weights[1], (std::vector<double>{0, 1, 0, 0}));
        BagSpec single = repo.resolve("91f11081");
        QCOMPARE(single.files.size(), size_t(1));
        QVERIFY(single.weights.empty());

        // A file whose content does not match the checksum in its name is refused.
        QTemporaryDir dir;
        QFile::copy(test::repoDir() + "/91f11081-2942f0c2.th",
                    dir.path() + "/91f11081-00000000.th");
        LocalRepo bad(dir.path().toStdString());
        try {
            bad.resolve("91f11081");
            QFAIL("a wrong checksum was accepted");
        } catch (const Error& e) {
            QVERIFY(QString(e.what()).contains("invalid checksum"));
        }
        try {
            repo.resolve("nothing_here");
            QFAIL("an unknown model was accepted");
        } catch (const Error& e) {
            QCOMPARE(e.kind(), ErrorKind::NotFound);
        }
        // A bag with a segment override and broken YAML.
        QFile yaml(dir.path() + "/broken.yaml");
        QVERIFY(yaml.open(QIODevice::WriteOnly));
        yaml.write("models: [91f11081\n");
        yaml.close();
        try {
            LocalRepo(dir.path().toStdString()).resolve("broken");
            QFAIL("broken YAML was accepted");
        } catch (const Error& e) {
            QVERIFY(QString(e.what()).contains("invalid bag file"));
        }
    }

    void init() {
        server_ = std::make_unique<test::FileServer>(test::fixturesDir());
        cache_ = std::make_unique<QTemporaryDir>();
        catalog_ = parseCatalog(testCatalog(server_->baseUrl()).toStdString(), "test catalog");
        qputenv("TORCH_HOME", (cacheDir() + "/no-torch-here").toUtf8());
    }

    void shippedCatalogListsTheOfficialFiles() {
        const Catalog c = loadCatalog();  // compiled in: no file, no network
        QCOMPARE(QString::fromStdString(c.baseUrl),
                 QString("https://dl.fbaipublicfiles.com/demucs/"));
        const QMap<QString, QStringList> expected{
            {"htdemucs", {"hybrid_transformer/955717e8-8726e21a.th"}},
            {"htdemucs_ft",
             {"hybrid_transformer/f7e0c4bc-ba3fe64a.th", "hybrid_transformer/d12395a8-e57c48e6.th",
              "hybrid_transformer/92cfc3b6-ef3bcb9c.th",
              "hybrid_transformer/04573f0d-f3cf25b2.th"}},
            {"htdemucs_6s", {"hybrid_transformer/5c90dfd2-34c22ccb.th"}},
            {"hdemucs_mmi", {"hybrid_transformer/75fc33f5-1941ce65.th"}},
            {"mdx_extra",
             {"mdx_final/e51eebcc-c1b80bdd.th", "mdx_final/a1d90b5c-ae9d2452.th",
              "mdx_final/5d2d6c55-db83574e.th", "mdx_final/cfa93e08-61801ae1.th"}},
        };
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            const CatalogModel* m = c.find(it.key().toStdString());
            QVERIFY2(m, qPrintable(it.key()));
            QStringList files;
            for (const auto& f : m->files)
                files << QString::fromStdString(f.path);
            QCOMPARE(files, it.value());
            QVERIFY(m->unsupported.empty());
        }
        QCOMPARE(c.find("htdemucs_ft")->weights.size(), size_t(4));
        QCOMPARE(*c.find("hdemucs_mmi")->segment, 44.0);
        QCOMPARE(*c.find("mdx_extra")->segment, 44.0);
        QCOMPARE(c.find("htdemucs_6s")->stems.size(), size_t(6));
        QVERIFY(!c.find("mdx_extra_q")->unsupported.empty());
    }

    void badCatalogsAreRefused() {
        const auto refused = [](const char* yaml) {
            try {
                parseCatalog(yaml, "bad");
            } catch (const Error& e) {
                return e.kind() == ErrorKind::InvalidInput;
            }
            return false;
        };
        QVERIFY(refused("models: {}"));
        QVERIFY(refused("base_url: x\nmodels:\n  a: {files: [../../etc/passwd]}\n"));
        QVERIFY(refused("base_url: x\nmodels:\n  a: {files: [/abs/955717e8-8726e21a.th]}\n"));
        QVERIFY(refused("base_url: x\nmodels:\n  a: {files: [a/b.th]}\n"));
        QVERIFY(refused(
            "base_url: x\nmodels:\n  a: {files: [a/955717e8-8726e21a.th], weights: [[1], [1]]}\n"));
        QVERIFY(refused("base_url: [unclosed"));
    }

    // A bag downloaded in parallel, verified, written as a demucs repo, then separated through the
    // CLI on first use, equal to the official output.
    void downloadThenSeparate() {
        ModelDownloader d(ModelStore(cacheDir().toStdString()), server_->baseUrl());
        QList<DownloadProgress> progress;
        QCOMPARE(download(d, *catalog_.find("htdemucs_ft_bag_tiny"), &progress), QString());
        QStringList expected = kBagFiles;
        expected << "htdemucs_ft_bag_tiny.yaml";
        expected.sort();
        QStringList got = filesIn(cacheDir());
        got.removeAll("no-torch-here");
        QCOMPARE(got, expected);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last().received, progress.last().total);
        qint64 size = 0;
        for (const QString& f : kBagFiles)
            size += QFileInfo(test::repoDir() + "/" + f).size();
        QCOMPARE(progress.last().total, size);
        QCOMPARE(server_->requests().size(), 4);

        const BagSpec spec = LocalRepo(cacheDir().toStdString()).resolve("htdemucs_ft_bag_tiny");
        QCOMPARE(spec.files.size(), size_t(4));
        QCOMPARE(spec.weights.size(), size_t(4));

        // The CLI downloads the single model on first use, then separates with it.
        QFile catalogFile(cacheDir() + "/catalog.yaml");
        QVERIFY(catalogFile.open(QIODevice::WriteOnly));
        catalogFile.write(testCatalog(server_->baseUrl()).toUtf8());
        catalogFile.close();
        QTemporaryDir out;
        QProcess cli;
        cli.start(MUSIC_SPLIT_CLI, {"separate", test::caseDir("htdemucs_tiny") + "/input.wav", "-n",
                                    "htdemucs_tiny", "--catalog", catalogFile.fileName(), "--cache",
                                    cacheDir(), "--shifts", "0", "--float32", "-o", out.path()});
        while (cli.state() != QProcess::NotRunning)
            QTest::qWait(50);  // the server needs this loop
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        QVERIFY(QFile::exists(cacheDir() + "/" + kTinyFile));
        const QString problem =
            test::compareCliStems(out.path() + "/htdemucs_tiny/input", "htdemucs_tiny");
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        // --no-download refuses a model that is not there, and says how to get it.
        ModelStore(cacheDir().toStdString()).remove(*catalog_.find("htdemucs_tiny"), catalog_);
        cli.start(MUSIC_SPLIT_CLI, {"separate", test::caseDir("htdemucs_tiny") + "/input.wav", "-n",
                                    "htdemucs_tiny", "--catalog", catalogFile.fileName(), "--cache",
                                    cacheDir(), "--no-download", "-o", out.path()});
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 1);
        QVERIFY(cli.readAllStandardError().contains("models download htdemucs_tiny"));
    }

    void corruptDownloadIsDiscarded() {
        server_->damage = true;
        ModelDownloader d(ModelStore(cacheDir().toStdString()), server_->baseUrl());
        const QString error = download(d, *catalog_.find("htdemucs_tiny"));
        QVERIFY2(error.contains("checksum mismatch") && error.contains("discarded"),
                 qPrintable(error));
        QStringList left = filesIn(cacheDir());
        left.removeAll("no-torch-here");
        QVERIFY2(left.isEmpty(), qPrintable(left.join(",")));
    }

    // The connection dies part way: the downloader resumes with a Range request and completes.
    void droppedConnectionResumes() {
        server_->dropAfterBytes = 300000;
        server_->drops = 1;
        ModelDownloader d(ModelStore(cacheDir().toStdString()), server_->baseUrl());
        QSignalSpy messages(&d, &ModelDownloader::message);
        QCOMPARE(download(d, *catalog_.find("htdemucs_tiny")), QString());
        QVERIFY(messages.size() == 1 &&
                messages[0][0].toString().contains("resuming at byte 300000"));
        // (QtNetwork may itself resend the first request on a busy machine: the last one counts.)
        QVERIFY(server_->requests().size() >= 2);
        QCOMPARE(server_->requests().last().range, QByteArray("bytes=300000-"));
        QCOMPARE(sha256Prefix((cacheDir() + "/" + kTinyFile).toStdString(), 8),
                 std::string("2942f0c2"));
    }

    // No retries within the call: the part file stays, and the next call resumes from it.
    void nextAttemptResumes() {
        server_->dropAfterBytes = 500000;
        server_->drops = 1;
        ModelStore store(cacheDir().toStdString());
        ModelDownloader d(store, server_->baseUrl());
        d.retries = 0;
        const QString error = download(d, *catalog_.find("htdemucs_tiny"));
        QVERIFY2(error.contains("interrupted"), qPrintable(error));
        QCOMPARE(QFileInfo(QString::fromStdString(
                               store.partPath(catalog_.find("htdemucs_tiny")->files[0])))
                     .size(),
                 qint64(500000));
        const auto before = server_->requests().size();
        ModelDownloader again(store, server_->baseUrl());
        QCOMPARE(download(again, *catalog_.find("htdemucs_tiny")), QString());
        // The next call asked from where the part ends. (QtNetwork may itself resend the first
        // call's request on a busy machine, so the last request is not always this one.)
        bool resumed = false;
        for (auto i = before; i < server_->requests().size(); ++i)
            resumed = resumed || server_->requests()[i].range == "bytes=500000-";
        QVERIFY(resumed);
        QVERIFY(store.isInstalled(*catalog_.find("htdemucs_tiny")));
        QVERIFY(!QFile::exists(
            QString::fromStdString(store.partPath(catalog_.find("htdemucs_tiny")->files[0]))));
    }

    // A server that ignores Range sends the whole file again: it is rewritten, not appended.
    void serverWithoutRangeStartsOver() {
        server_->dropAfterBytes = 200000;
        server_->drops = 1;
        server_->ignoreRange = true;
        ModelDownloader d(ModelStore(cacheDir().toStdString()), server_->baseUrl());
        QCOMPARE(download(d, *catalog_.find("htdemucs_tiny")), QString());
        QCOMPARE(sha256Prefix((cacheDir() + "/" + kTinyFile).toStdString(), 8),
                 std::string("2942f0c2"));
    }

    void clearNetworkErrors() {
        Catalog missing = parseCatalog(
            testCatalog(server_->baseUrl()).replace("repo/", "nowhere/").toStdString(), "test");
        ModelDownloader d(ModelStore(cacheDir().toStdString()), server_->baseUrl());
        QString error = download(d, *missing.find("htdemucs_tiny"));
        QVERIFY2(error.contains("404"), qPrintable(error));

        ModelDownloader refused(ModelStore(cacheDir().toStdString()),
                                QString("http://127.0.0.1:%1/").arg(test::closedPort()));
        error = download(refused, *catalog_.find("htdemucs_tiny"));
        QVERIFY2(error.contains("connection refused"), qPrintable(error));
        QVERIFY(!ModelStore(cacheDir().toStdString()).isInstalled(*catalog_.find("htdemucs_tiny")));
    }

    // Python demucs' downloads in the torch hub cache are used, with the server down.
    void torchHubCacheIsReused() {
        QTemporaryDir home;
        QDir().mkpath(home.path() + "/torch/hub/checkpoints");
        QVERIFY(QFile::copy(test::repoDir() + "/" + kTinyFile,
                            home.path() + "/torch/hub/checkpoints/" + kTinyFile));
        qputenv("TORCH_HOME", (home.path() + "/torch").toUtf8());
        ModelDownloader d(ModelStore(cacheDir().toStdString()),
                          QString("http://127.0.0.1:%1/").arg(test::closedPort()));
        QSignalSpy messages(&d, &ModelDownloader::message);
        QCOMPARE(download(d, *catalog_.find("htdemucs_tiny")), QString());
        QVERIFY(messages.size() == 1 && messages[0][0].toString().contains("torch hub"));
        QVERIFY(ModelStore(cacheDir().toStdString()).isInstalled(*catalog_.find("htdemucs_tiny")));
        QVERIFY(server_->requests().isEmpty());

        // A damaged copy there is ignored (and left alone): the download is attempted instead.
        ModelStore(cacheDir().toStdString()).remove(*catalog_.find("htdemucs_tiny"), catalog_);
        QVERIFY(damagedCopy(home.path() + "/torch/hub/checkpoints/" + kTinyFile));
        ModelDownloader d2(ModelStore(cacheDir().toStdString()), server_->baseUrl());
        QCOMPARE(download(d2, *catalog_.find("htdemucs_tiny")), QString());
        QCOMPARE(server_->requests().size(), 1);
    }

    void importVerifyRemove() {
        ModelStore store(cacheDir().toStdString());
        const auto imported =
            store.import(test::repoDir().toStdString());  // the whole fixture repo
        QCOMPARE(imported.size(), size_t(11));
        QVERIFY(LocalRepo(cacheDir().toStdString()).has("htdemucs6_tiny_bottom"));
        QVERIFY(store.verify().empty());

        // A damaged file is reported by verify.
        QVERIFY(damagedCopy(cacheDir() + "/" + kTinyFile));
        const auto broken = store.verify();
        QCOMPARE(broken.size(), size_t(1));
        QVERIFY(QString::fromStdString(broken[0]).startsWith(kTinyFile));

        // A file whose content does not match its name is not imported.
        QTemporaryDir other;
        QVERIFY(QFile::copy(test::repoDir() + "/" + kBagFiles[0], other.path() + "/" + kTinyFile));
        QFile::remove(cacheDir() + "/" + kTinyFile);
        try {
            store.import((other.path() + "/" + kTinyFile).toStdString());
            QFAIL("a mislabelled file was imported");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("checksum mismatch"), e.what());
        }
        QVERIFY(!QFile::exists(cacheDir() + "/" + kTinyFile));

        // An imported file that completes a catalog model installs it (its bag is written once).
        QTemporaryDir fresh;
        const ModelStore freshStore(fresh.path().toStdString());
        freshStore.import((test::repoDir() + "/" + kTinyFile).toStdString());
        QCOMPARE(freshStore.installComplete(catalog_), std::vector<std::string>{"htdemucs_tiny"});
        QVERIFY(freshStore.isInstalled(*catalog_.find("htdemucs_tiny")));
        QVERIFY(freshStore.installComplete(catalog_).empty());

        // Removing a bag keeps files another installed model uses, drops the rest.
        store.writeBag(*catalog_.find("htdemucs_ft_bag_tiny"));
        QVERIFY(store.isInstalled(*catalog_.find("htdemucs_ft_bag_tiny")));
        store.remove(*catalog_.find("htdemucs_ft_bag_tiny"), catalog_);
        for (const QString& b : kBagFiles)
            QVERIFY(!QFile::exists(cacheDir() + "/" + b));
        QVERIFY(!QFile::exists(cacheDir() + "/htdemucs_ft_bag_tiny.yaml"));
    }
};

QTEST_GUILESS_MAIN(TestModels)
#include "test_models.moc"
