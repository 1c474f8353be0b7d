#pragma once
// Reads a Demucs checkpoint (`torch.save` zip holding {klass, args, kwargs, state, training_args})
// without Python: LibTorch's archive reader for the zip, our safe unpickler for the pickle.
#include <ATen/ATen.h>

#include <map>
#include <string>

#include "core/engine/pickle.h"

namespace msplit::engine {

struct Checkpoint {
    std::string klass;   // e.g. "demucs.htdemucs.HTDemucs" (a name, never resolved)
    PyRef args;          // tuple
    PyRef kwargs;        // dict
    PyRef trainingArgs;  // may be None
    std::map<std::string, at::Tensor> state;  // floating tensors upcast to float32
};

// Throws Error with the file name and the reason.
Checkpoint loadCheckpoint(const std::string& path);

}  // namespace msplit::engine
