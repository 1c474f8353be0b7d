#pragma once
// The main of tests that use the app's settings, library or caches: a QApplication whose XDG
// folders are a temporary one, so the user's own are never read or written.
#include <QApplication>
#include <QTemporaryDir>
#include <QtTest>

namespace msplit::test {

template <typename TestClass>
int isolatedAppMain(int argc, char** argv) {
    QTemporaryDir home;  // settings, library and caches of this test only
    for (const char* var : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"})
        qputenv(var, (home.path() + "/" + var).toUtf8());
    QApplication app(argc, argv);
    QApplication::setOrganizationName("music-split");
    QApplication::setApplicationName("music-split-test");
    TestClass t;
    return QTest::qExec(&t, argc, argv);
}

}  // namespace msplit::test
