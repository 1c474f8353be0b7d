// music-split: the desktop app.
#include <QApplication>
#include <QCommandLineParser>

#include "core/log/logging.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("music-split");
    QApplication::setApplicationDisplayName("Music Split");
    QApplication::setApplicationVersion(MUSIC_SPLIT_VERSION);
    QCommandLineParser parser;
    parser.setApplicationDescription("Split songs into stems with Demucs.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({{"v", "verbose"}, "Log debug messages."});
    parser.addPositionalArgument("files", "Songs to open.", "[FILE...]");
    parser.process(app);
    msplit::initLogging(parser.isSet("verbose"));

    msplit::ui::MainWindow window;
    window.show();
    return app.exec();
}
