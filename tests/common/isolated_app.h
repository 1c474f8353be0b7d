#pragma once
// The main of tests that use the app's settings, library or caches: an application (a
// QApplication for widgets, a QCoreApplication otherwise) whose XDG folders are a temporary
// one, so the user's own are never read or written.
#include <QCoreApplication>
#include <QTemporaryDir>
#include <QtTest>

namespace msplit::test {

template <typename TestClass, typename App>
int isolatedMain(int argc, char** argv) {
    QTemporaryDir home;  // settings, library and caches of this test only
    for (const char* var : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"})
        qputenv(var, (home.path() + "/" + var).toUtf8());
    App app(argc, argv);
    App::setOrganizationName("music-split");
    App::setApplicationName("music-split-test");
    TestClass t;
    return QTest::qExec(&t, argc, argv);
}

}  // namespace msplit::test
