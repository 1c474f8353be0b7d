#pragma once
// STFT and inverse STFT as Demucs uses them (spec.py): Hann window, normalized, centred.
#include <ATen/ATen.h>

namespace msplit::engine {

// x: (..., T) real -> (..., nfft/2+1, frames) complex
at::Tensor spectro(const at::Tensor& x, int64_t nfft, int64_t hop);
// z: (..., freqs, frames) complex -> (..., length) real
at::Tensor ispectro(at::Tensor z, int64_t hop, int64_t length);

// The hybrid models' spectrogram (hdemucs.py _spec): padded so that frames line up with the time
// branch's strides. `old` replicates the MDX models' zero-padding bug (hybrid_old).
at::Tensor hybridSpec(const at::Tensor& x, int64_t nfft, int64_t hop, bool old = false);
// Its inverse (_ispec), to `length` samples.
at::Tensor hybridIspec(at::Tensor z, int64_t hop, int64_t length, bool old = false);
// Complex as channels: (B, C, F, T) complex <-> (B, 2C, F, T) real, [re, im] per channel.
at::Tensor complexToChannels(const at::Tensor& z);
// (B, S, 2C, F, T) real -> (B, S, C, F, T) complex
at::Tensor channelsToComplex(const at::Tensor& x);

}  // namespace msplit::engine
