// music-split: the desktop app.
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include "app/command_line.h"
#include "core/engine/engine.h"
#include "core/log/logging.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
    msplit::engine::relaunchWithPassiveThreads(argv);  // may execute the program again
    msplit::engine::prepareProcess();                  // before any thread starts
    QApplication app(argc, argv);
    QApplication::setOrganizationName("music-split");
    QApplication::setApplicationName("music-split");
    QApplication::setApplicationDisplayName("Music Split");
    QApplication::setApplicationVersion(MUSIC_SPLIT_VERSION);
    QApplication::setWindowIcon(QIcon(":/icons/music-split.svg"));
    QApplication::setDesktopFileName("music-split");
    QCommandLineParser parser;
    parser.setApplicationDescription("Split songs into stems with Demucs.");
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({"verbose", "Log debug messages."});  // -v is --version
    parser.addPositionalArgument("files", "Songs to open.", "[FILE...]");
    if (const int status = msplit::parseCommandLine(parser, app.arguments(), "music-split", true);
        status >= 0)
        return status;
    msplit::initLogging(parser.isSet("verbose"));

    msplit::ui::MainWindow window;
    window.show();
    if (!parser.positionalArguments().isEmpty()) window.openFiles(parser.positionalArguments());
    return app.exec();
}
