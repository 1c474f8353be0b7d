#pragma once
// The model cache: a demucs-style local repository ({sig}-{sha8}.th files plus NAME.yaml bags
// written from the catalog), so `separate --repo` and the Python demucs can read it too.
#include <QStringList>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/models/catalog.h"

namespace msplit {

class ModelStore {
public:
    explicit ModelStore(std::string dir);  // created on first write

    const std::string& dir() const { return dir_; }
    std::string filePath(const CatalogFile& f) const;
    // Where a download in progress is kept between attempts (resumed with an HTTP Range).
    std::string partPath(const CatalogFile& f) const;

    // Where the store keeps `f`: its own name, or else another copy of the same model (the same
    // signature, a checksum of its own, e.g. imported from an ONNX export); empty when absent.
    std::string installedPath(const CatalogFile& f) const;
    // Every file present (or another copy of it) and the bag file written.
    bool isInstalled(const CatalogModel& m) const;
    std::vector<CatalogFile> missingFiles(const CatalogModel& m) const;
    int64_t installedBytes(const CatalogModel& m) const;
    // Writes NAME.yaml (models, weights, segment) atomically. Throws Error (Io).
    void writeBag(const CatalogModel& m) const;
    // Moves a verified file into the store: the checksum must match the name, else the source
    // is left alone and Error (InvalidInput) is thrown. Hard-links when `keepSource`, else renames.
    // Another copy of the same model (same signature) is removed: the store keeps one.
    void adopt(const std::string& source, const CatalogFile& f, bool keepSource) const;
    // Looks for the file in the torch hub cache (where Python demucs downloads); adopts a copy
    // when found and intact. Returns whether it did.
    bool reuseFromTorchHub(const CatalogFile& f) const;
    // Removes the model's bag and the files no other installed model of `catalog` uses.
    void remove(const CatalogModel& m, const Catalog& catalog) const;
    // Checks every .th file's checksum; returns the broken ones ("file: reason").
    std::vector<std::string> verify() const;
    // Adds a file made by `write` (called with a temporary path in the store) as {sig}-{sha8}.th,
    // named by its own checksum; returns that name. The temporary file never stays. Throws Error.
    std::string addFile(const std::string& sig,
                        const std::function<void(const std::string& path)>& write) const;
    // Imports a .th file, or every .th and .yaml of a folder; returns what was imported.
    std::vector<std::string> import(const std::string& path) const;
    // Writes the bag of every usable catalog model whose files are all here but that has none yet
    // (after an import); returns their names.
    std::vector<std::string> installComplete(const Catalog& catalog) const;

    // $TORCH_HOME/hub/checkpoints (default $XDG_CACHE_HOME/torch or ~/.cache/torch).
    static std::string torchHubDir();

private:
    void ensureDir() const;
    void place(const std::string& source, const CatalogFile& f, bool keepSource) const;
    QStringList sameSignature(const std::string& sig) const;  // {sig}-{sha8}.th file names
    std::string dir_;
};

}  // namespace msplit
