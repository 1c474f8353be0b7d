// The BLAS library under LibTorch (core/engine/blas.h): OpenBLAS uses kernels for this CPU even
// when it does not recognise the model, its idle threads sleep, a user's OPENBLAS_* settings are
// kept, and the matrix products stay correct after the switch.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <ctime>

#include "core/engine/blas.h"
#include "core/engine/device.h"

// After LibTorch: Qt's `slots` macro would rewrite its IValue::slots().
#include <QProcess>
#include <QRegularExpression>
#include <QThread>
#include <QtTest>

extern "C" int openblas_get_num_threads(void) __attribute__((weak));

using namespace msplit;

namespace {

// CPU time of the whole process during 150 ms of sleep right after a matrix product on all
// threads: what OpenBLAS's idle threads burn.
double idleCpuMsAfterProduct() {
    const at::Tensor a = at::randn({1024, 1024});
    at::mm(a, a).sum().item<float>();
    timespec before{}, after{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
    QThread::msleep(150);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
    return double(after.tv_sec - before.tv_sec) * 1e3 +
           double(after.tv_nsec - before.tv_nsec) / 1e6;
}

// What this executable prints instead of testing when started as a child (see main).
constexpr const char* kChildVar = "MUSIC_SPLIT_TEST_BLAS_CHILD";

// Runs this executable as a child that prints `what` ("description" or "idle") with
// `name`=`value` set, and returns what it printed.
QString runSelf(const QString& what, const QString& name, const QString& value) {
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(name, value);
    env.insert(kChildVar, what);
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {});
    if (!child.waitForFinished(60000) || child.exitCode() != 0) return "the child failed";
    return child.readAllStandardOutput() + child.readAllStandardError();
}

}  // namespace

class TestBlas : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { engine::setThreads(0); }  // chooses the kernels, as the apps do

    // After a matrix product, OpenBLAS's threads sleep instead of spinning while LibTorch's
    // threads work; a user's OPENBLAS_THREAD_TIMEOUT is kept (the default's spin shows, which
    // also shows that this test sees spinning).
    void idleThreadsSleep() {
        if (!openblas_get_num_threads) QSKIP("LibTorch does not use OpenBLAS here");
        if (openblas_get_num_threads() < 2) QSKIP("OpenBLAS runs one thread here");
        const double idle = idleCpuMsAfterProduct();
        QVERIFY2(idle < 50, qPrintable(QString::number(idle)));  // LibTorch's own threads: ~20
        const QString out = runSelf("idle", "OPENBLAS_THREAD_TIMEOUT", "28");
        static const QRegularExpression ms("idle CPU: ([0-9.]+) ms");
        const auto m = ms.match(out);
        // 2^28 cycles of spinning: 130 ms at 2 GHz, 67 ms at 4 GHz.
        QVERIFY2(m.hasMatch() && m.captured(1).toDouble() > idle + 40, qPrintable(out));
    }

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
        const QString out = runSelf("description", "OPENBLAS_CORETYPE", "Prescott");
        QVERIFY2(out.contains("(Prescott kernels)"), qPrintable(out));
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

// As a child of runSelf, prints what the parent asked for instead of running the tests: the BLAS
// description, or the CPU time burned while idle after a product.
int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    const QByteArray child = qgetenv(kChildVar);
    if (!child.isEmpty()) {
        engine::setThreads(0);
        if (child == "description")
            std::printf("BLAS: %s\n", engine::blasDescription().c_str());
        else
            std::printf("idle CPU: %.1f ms\n", idleCpuMsAfterProduct());
        return 0;
    }
    TestBlas t;
    return QTest::qExec(&t, argc, argv);
}
#include "test_blas.moc"
