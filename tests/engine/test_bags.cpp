// Bags as the catalog's v3 entries use them (mdx_extra: four HDemucs models, segment 44) and bags
// that mix model classes: installed through the model store, loaded from the repository, and
// equal to the average of their models.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include "core/engine/apply.h"
#include "core/engine/checkpoint_writer.h"
#include "core/engine/device.h"
#include "core/engine/model_configs.h"
#include "core/engine/model_loader.h"
#include "core/engine/npy.h"
#include "core/models/catalog.h"
#include "core/models/local_repo.h"
#include "core/models/model_store.h"
#include "tests/common/fixtures.h"

using namespace msplit;

namespace {

// Saves `m` as torch.save would, named {sig}-{sha8}.th in `dir`; returns the file name.
QString saveCheckpoint(const engine::RandomModel& m, const QString& dir, const QString& sig) {
    engine::Checkpoint ck;
    ck.klass = m.klass;
    ck.kwargs = m.kwargs;
    ck.state = m.state;
    const QString raw = dir + "/raw.th";
    engine::saveCheckpoint(raw.toStdString(), ck);
    const QString name =
        sig + "-" + QString::fromStdString(sha256Prefix(raw.toStdString(), 8)) + ".th";
    QFile::rename(raw, dir + "/" + name);
    return name;
}

// The official v3 layout with fewer channels, so four of them run quickly.
engine::RandomModel smallHDemucs(uint64_t seed) {
    engine::PyRef kw = engine::officialKwargs("hdemucs");
    for (auto& [k, v] : kw->entries)
        if (k->text == "channels") v->integer = 8;
    return engine::buildRandomModel("hdemucs", at::kFloat, seed, kw);
}

}  // namespace

class TestBags : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { engine::setThreads(0); }

    // A catalog entry shaped like mdx_extra, with random v3 models in place of the real ones.
    void mdxExtraShapedBag() {
        QTemporaryDir files, cache;
        QStringList names;
        for (int i = 0; i < 4; ++i)
            names << saveCheckpoint(smallHDemucs(uint64_t(i + 1)), files.path(),
                                    QString("a000000%1").arg(i));
        const std::string yaml =
            "base_url: http://127.0.0.1:9/\nmodels:\n  mdx_extra_like:\n"
            "    stems: [drums, bass, other, vocals]\n    files: [mdx_final/" +
            names.join(", mdx_final/").toStdString() + "]\n    segment: 44\n";
        const Catalog catalog = parseCatalog(yaml, "test");
        const ModelStore store(cache.path().toStdString());
        store.import(files.path().toStdString());
        store.writeBag(*catalog.find("mdx_extra_like"));
        QVERIFY(store.isInstalled(*catalog.find("mdx_extra_like")));

        const auto bag = engine::loadBag(
            toModelSpec(LocalRepo(cache.path().toStdString()).resolve("mdx_extra_like")));
        QCOMPARE(bag->models().size(), size_t(4));
        for (const auto& m : bag->models()) {
            QCOMPARE(QString::fromStdString(m->className()), QString("HDemucs"));
            QCOMPARE(m->segment().seconds, 44.0);  // the bag's segment, as demucs applies it
        }

        // The bag's estimate is the mean of its models' (all weights one).
        const at::Tensor mix = test::caseMix("hdemucs_tiny").slice(1, 0, 44100 * 3).unsqueeze(0);
        engine::ApplyOptions opt;
        opt.shifts = 0;
        const at::Tensor bagOut = engine::applyBag(*bag, mix, opt);
        at::Tensor mean = at::zeros_like(bagOut);
        for (const auto& m : bag->models())
            mean += engine::applyBag(engine::Bag({m}), mix, opt);
        mean /= 4;
        QVERIFY(bagOut.isfinite().all().item<bool>());
        const double err = test::relativeError(bagOut, mean);
        QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
    }

    // v3 and v4 models in one bag (as the official mdx bag mixes classes).
    void mixedClassBag() {
        QTemporaryDir repo;
        for (const char* f : {"/837273a0-d6c25133.th", "/91f11081-2942f0c2.th"})
            QVERIFY(QFile::copy(test::repoDir() + f, repo.path() + f));
        QFile yaml(repo.path() + "/mixed.yaml");
        QVERIFY(yaml.open(QIODevice::WriteOnly));
        yaml.write("models: ['837273a0', '91f11081']\nweights: [[1, 1, 0, 1], [1, 0, 1, 1]]\n");
        yaml.close();
        const auto bag =
            engine::loadBag(toModelSpec(LocalRepo(repo.path().toStdString()).resolve("mixed")));
        QCOMPARE(QString::fromStdString(bag->models()[0]->className()), QString("HDemucs"));
        QCOMPARE(QString::fromStdString(bag->models()[1]->className()), QString("HTDemucs"));

        const at::Tensor mix = test::caseMix("hdemucs_tiny").slice(1, 0, 44100 * 4).unsqueeze(0);
        engine::ApplyOptions opt;
        opt.shifts = 0;
        const at::Tensor out = engine::applyBag(*bag, mix, opt);
        const at::Tensor a = engine::applyBag(engine::Bag({bag->models()[0]}), mix, opt);
        const at::Tensor b = engine::applyBag(engine::Bag({bag->models()[1]}), mix, opt);
        // Per source: the weighted mean of the models that have a weight for it.
        const at::Tensor w0 = at::tensor({1.0f, 1.0f, 0.0f, 1.0f}).view({1, 4, 1, 1});
        const at::Tensor w1 = at::tensor({1.0f, 0.0f, 1.0f, 1.0f}).view({1, 4, 1, 1});
        const at::Tensor expected = (a * w0 + b * w1) / (w0 + w1);
        const double err = test::relativeError(out, expected);
        QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
    }
};

QTEST_GUILESS_MAIN(TestBags)
#include "test_bags.moc"
