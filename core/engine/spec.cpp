#include "core/engine/spec.h"

#include "core/engine/error.h"
#include "core/engine/layers.h"

namespace msplit::engine {

at::Tensor spectro(const at::Tensor& x, int64_t nfft, int64_t hop) {
    auto shape = x.sizes().vec();
    const int64_t length = shape.back();
    at::Tensor flat = x.reshape({-1, length});
    at::Tensor window = at::hann_window(nfft, flat.options());
    at::Tensor z =
        at::stft(flat, nfft, hop, nfft, window, /*center=*/true, "reflect", /*normalized=*/true,
                 /*onesided=*/true, /*return_complex=*/true);
    shape.back() = z.size(1);
    shape.push_back(z.size(2));
    return z.view(shape);
}

namespace {

// Overlap-add of (N, nfft, frames) frames with hop nfft / r into (N, (frames - 1 + r) * hop).
at::Tensor overlapAdd(const at::Tensor& frames, int64_t hop) {
    const int64_t N = frames.size(0), nfft = frames.size(1), F = frames.size(2), r = nfft / hop;
    at::Tensor parts = frames.view({N, r, hop, F});
    at::Tensor out = at::zeros({N, F - 1 + r, hop}, frames.options());
    for (int64_t j = 0; j < r; ++j)
        out.slice(1, j, j + F).add_(parts.select(1, j).transpose(1, 2));
    return out.view({N, (F - 1 + r) * hop});
}

}  // namespace

at::Tensor ispectro(at::Tensor z, int64_t hop, int64_t length) {
    auto shape = z.sizes().vec();
    const int64_t freqs = shape[shape.size() - 2], frames = shape.back();
    const int64_t nfft = 2 * freqs - 2;
    at::Tensor flat = z.reshape({-1, freqs, frames});
    z.reset();  // a spectrogram moved in is freed with `flat`, once the frames exist
    at::Tensor window =
        at::hann_window(nfft, at::TensorOptions().dtype(at::kFloat).device(flat.device()));
    at::Tensor x;
    if (nfft % hop == 0) {
        // torch.istft's own computation (normalized, centred), with a direct overlap-add instead of
        // its col2im, which is slow on the CPU.
        at::Tensor frameData = at::fft_irfft(flat, nfft, 1, "ortho");
        flat.reset();
        frameData.mul_(window.view({1, -1, 1}));
        at::Tensor y = overlapAdd(frameData, hop);
        frameData.reset();
        at::Tensor envelope =
            overlapAdd(window.pow(2).view({1, -1, 1}).expand({1, nfft, frames}).contiguous(), hop);
        const int64_t start = nfft / 2, end = start + length, available = y.size(1);
        const int64_t stop = std::min(end, available);
        at::Tensor env = envelope.slice(1, start, stop);
        if (env.abs().min().item<float>() < 1e-11f)
            throw std::runtime_error("istft: window overlap-add is zero");
        x = y.slice(1, start, stop) / env;
        if (end > available) x = at::constant_pad_nd(x, {0, end - available});
    } else {
        x = at::istft(flat, nfft, hop, nfft, window, /*center=*/true, /*normalized=*/true,
                      /*onesided=*/c10::nullopt, length, /*return_complex=*/false);
    }
    shape.pop_back();
    shape.back() = x.size(-1);
    return x.view(shape);
}

at::Tensor hybridSpec(const at::Tensor& x, int64_t nfft, int64_t hop, bool old) {
    const int64_t le = (x.size(-1) + hop - 1) / hop;
    const int64_t pad = hop / 2 * 3;
    const int64_t right = pad + le * hop - x.size(-1);
    const at::Tensor padded =
        old ? at::constant_pad_nd(x, {pad, right}) : reflectPad1d(x, pad, right);
    at::Tensor z = spectro(padded, nfft, hop);
    z = z.slice(-2, 0, z.size(-2) - 1);
    if (z.size(-1) != le + 4) throw Error("internal: unexpected spectrogram length");
    return z.slice(-1, 2, 2 + le);
}

at::Tensor hybridIspec(at::Tensor z, int64_t hop, int64_t length, bool old) {
    at::Tensor padded = at::constant_pad_nd(z, {2, 2, 0, 1});  // frames by 2, one more bin
    z.reset();
    const int64_t pad = hop / 2 * 3;
    if (old)
        return ispectro(std::move(padded), hop, hop * ((length + hop - 1) / hop))
            .slice(-1, 0, length);
    const int64_t le = hop * ((length + hop - 1) / hop) + 2 * pad;
    return ispectro(std::move(padded), hop, le).slice(-1, pad, pad + length);
}

at::Tensor complexToChannels(const at::Tensor& z) {
    const int64_t B = z.size(0), C = z.size(1), Fq = z.size(2), T = z.size(3);
    return at::view_as_real(z).permute({0, 1, 4, 2, 3}).reshape({B, C * 2, Fq, T});
}

at::Tensor channelsToComplex(const at::Tensor& x) {
    const int64_t B = x.size(0), S = x.size(1), Fq = x.size(3), T = x.size(4);
    return at::view_as_complex(
        x.view({B, S, -1, 2, Fq, T}).permute({0, 1, 2, 4, 5, 3}).contiguous());
}

}  // namespace msplit::engine
