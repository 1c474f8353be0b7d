// The BLAS library under LibTorch (core/engine/blas.h): OpenBLAS uses kernels for this CPU even
// when it does not recognise the model, honours a user's OPENBLAS_CORETYPE, and the matrix
// products stay correct after the switch.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "core/engine/blas.h"
#include "core/engine/device.h"

// After LibTorch: Qt's `slots` macro would rewrite its IValue::slots().
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

extern "C" int openblas_get_num_threads(void) __attribute__((weak));

using namespace msplit;

class TestBlas : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { engine::setThreads(0); }  // chooses the kernels, as the apps do

    // Run on its own by choosesKernelsForThisCpu in a child process: prints the description.
    void printDescription() { qInfo("BLAS: %s", engine::blasDescription().c_str()); }

    void choosesKernelsForThisCpu() {
        const std::string blas = engine::blasDescription();
        if (blas.empty()) QSKIP("LibTorch does not use OpenBLAS here");
#if !defined(__x86_64__)
        QSKIP("the kernel choice is for x86-64 CPUs");
#else
        __builtin_cpu_init();
        const bool avx512 =
            __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512cd");
        const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        if (!avx2) QSKIP("this CPU has no AVX2: OpenBLAS's own choice stands");
        // Whatever OpenBLAS picked by itself or was switched to, it is not a pre-AVX2 kernel set.
        for (const char* old : {"(Prescott", "(Nehalem", "(Core2", "(Sandybridge", "(Unknown"})
            QVERIFY2(!QString::fromStdString(blas).contains(old), blas.c_str());
        if (avx512 && qEnvironmentVariableIsEmpty("OPENBLAS_CORETYPE"))
            QVERIFY2(QString::fromStdString(blas).contains(
                         QRegularExpression("SkylakeX|Cooperlake|SapphireRapids")),
                     blas.c_str());

        // A user's choice is kept: a child process told to use Prescott gets Prescott.
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("OPENBLAS_CORETYPE", "Prescott");
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {"printDescription"});
        QVERIFY(child.waitForFinished(60000));
        const QString out = child.readAllStandardOutput() + child.readAllStandardError();
        QVERIFY2(child.exitCode() == 0 && out.contains("(Prescott kernels)"), qPrintable(out));
#endif
    }

    // The products computed with the kernels chosen equal a float64 reference, in shapes the
    // model uses (the transformer's linear layers, attention scores with a transposed operand).
    void productsAreCorrect() {
        at::manual_seed(3);
        for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{2688, 512, 2048},
                               {1344, 64, 2688},
                               {17, 3, 5}}) {
            const at::Tensor a = at::randn({m, k}), b = at::randn({n, k});
            const at::Tensor got = at::mm(a, b.t());
            const at::Tensor want = at::mm(a.to(at::kDouble), b.to(at::kDouble).t());
            const double err = (got.to(at::kDouble) - want).abs().max().item<double>() /
                               want.abs().max().item<double>();
            QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
        }
    }

    void threadsFollowTheSetting() {
        if (!openblas_get_num_threads) QSKIP("LibTorch does not use OpenBLAS here");
        engine::setThreads(1);
        QCOMPARE(openblas_get_num_threads(), 1);
        QCOMPARE(at::get_num_threads(), 1);
        engine::setThreads(2);
        QCOMPARE(openblas_get_num_threads(), 2);
        engine::setThreads(0);
    }
};

QTEST_GUILESS_MAIN(TestBlas)
#include "test_blas.moc"
