#include "core/engine/spec.h"

namespace msplit::engine {

at::Tensor spectro(const at::Tensor& x, int64_t nfft, int64_t hop) {
    auto shape = x.sizes().vec();
    const int64_t length = shape.back();
    at::Tensor flat = x.reshape({-1, length});
    at::Tensor window = at::hann_window(nfft, flat.options());
    at::Tensor z = at::stft(flat, nfft, hop, nfft, window, /*center=*/true, "reflect", /*normalized=*/true,
                            /*onesided=*/true, /*return_complex=*/true);
    shape.back() = z.size(1);
    shape.push_back(z.size(2));
    return z.view(shape);
}

at::Tensor ispectro(const at::Tensor& z, int64_t hop, int64_t length) {
    auto shape = z.sizes().vec();
    const int64_t freqs = shape[shape.size() - 2], frames = shape.back();
    const int64_t nfft = 2 * freqs - 2;
    at::Tensor flat = z.reshape({-1, freqs, frames});
    at::Tensor window = at::hann_window(nfft, at::TensorOptions().dtype(at::kFloat).device(z.device()));
    at::Tensor x = at::istft(flat, nfft, hop, nfft, window, /*center=*/true, /*normalized=*/true,
                             /*onesided=*/c10::nullopt, length, /*return_complex=*/false);
    shape.pop_back();
    shape.back() = x.size(-1);
    return x.view(shape);
}

}  // namespace msplit::engine
