#pragma once
// STFT and inverse STFT as Demucs uses them (spec.py): Hann window, normalized, centred.
#include <ATen/ATen.h>

namespace msplit::engine {

// x: (..., T) real -> (..., nfft/2+1, frames) complex
at::Tensor spectro(const at::Tensor& x, int64_t nfft, int64_t hop);
// z: (..., freqs, frames) complex -> (..., length) real
at::Tensor ispectro(const at::Tensor& z, int64_t hop, int64_t length);

}  // namespace msplit::engine
