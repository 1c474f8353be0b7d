#include "core/engine/layers.h"

#include "core/engine/blstm.h"
#include "core/engine/error.h"
#include "core/engine/local_state.h"

namespace msplit::engine {

// ---- Conv ------------------------------------------------------------------------------------

namespace {

// A transposed convolution along one axis whose kernel is a multiple of its stride, as one matrix
// product and a few shifted additions. LibTorch's CPU transposed convolution (im2col + col2im) is
// several times slower for these shapes.
at::Tensor convTransposeByMatmul(const at::Tensor& x, const at::Tensor& weight,
                                 const at::Tensor& bias, int64_t stride) {
    const bool twoD = x.dim() == 4;
    const int64_t B = x.size(0), cin = x.size(1), F = x.size(2), T = twoD ? x.size(3) : 1;
    const int64_t cout = weight.size(1), K = weight.size(2), r = K / stride;
    const at::Tensor in = x.reshape({B, cin, F * T});
    at::Tensor out = at::zeros({B, cout, F - 1 + r, stride, T}, x.options());
    // One kernel slice of `stride` taps at a time: every input frame's contribution to `stride`
    // output frames, shifted by j frames. Slice by slice, and with mm per batch item (matmul
    // would copy its result once more), the intermediate stays a fraction of the output.
    at::Tensor cols = at::empty({B, cout * stride, F * T}, x.options());
    for (int64_t j = 0; j < r; ++j) {
        const at::Tensor w = weight.slice(2, j * stride, (j + 1) * stride).reshape({cin, -1}).t();
        for (int64_t b = 0; b < B; ++b) {
            at::Tensor dst = cols[b];
            at::mm_out(dst, w, in[b]);
        }
        out.slice(2, j, j + F).add_(cols.view({B, cout, stride, F, T}).permute({0, 1, 3, 2, 4}));
    }
    out = out.view({B, cout, (F - 1 + r) * stride, T}).add_(bias.view({1, cout, 1, 1}));
    return twoD ? out : out.squeeze(-1);
}

// A kernel-1 convolution of (N, Cin, T) with very few input channels (the DConv branches'
// expansions, 6 -> 96 in htdemucs's outer layer): oneDNN pads such inputs to its blocked layout
// and writes a second output-sized buffer, the largest tensor of a forward, several times slower
// than a product per item. LibTorch's own convolution (one product per batch item, in parallel)
// writes straight into the output.
at::Tensor pointwiseFewInputs(const at::Tensor& x, const at::Tensor& weight,
                              const at::Tensor& bias) {
    if (x.size(0) == 1) return at::addmm(bias.unsqueeze(1), weight.squeeze(2), x[0]).unsqueeze(0);
    return at::thnn_conv2d(x.unsqueeze(2), weight.unsqueeze(2), {1, 1}, bias, {1, 1}, {0, 0})
        .squeeze(2);
}

}  // namespace

at::Tensor Conv::operator()(const at::Tensor& x) const {
    const bool twoD = weight.dim() == 4;
    if (transposed) {
        const bool oneAxis = !twoD || (weight.size(3) == 1 && stride[1] == 1);
        if (oneAxis && weight.size(2) % stride[0] == 0)
            return convTransposeByMatmul(x, weight, bias, stride[0]);
        return twoD ? at::conv_transpose2d(x, weight, bias, stride)
                    : at::conv_transpose1d(x, weight, bias, stride);
    }
    if (!twoD && x.is_cpu() && weight.size(2) == 1 && weight.size(1) < 8 && stride[0] == 1 &&
        padding[0] == 0)
        return pointwiseFewInputs(x, weight, bias);
    return twoD ? at::conv2d(x, weight, bias, stride, padding, dilation)
                : at::conv1d(x, weight, bias, stride, padding, dilation);
}

Conv Conv::conv1d(Params& p, const std::string& name, int64_t cin, int64_t cout, int64_t k,
                  int64_t stride, int64_t padding, int64_t dilation) {
    Conv c;
    c.weight = p.get(name + ".weight", {cout, cin, k});
    c.bias = p.get(name + ".bias", {cout});
    c.stride = {stride};
    c.padding = {padding};
    c.dilation = {dilation};
    return c;
}

Conv Conv::conv2d(Params& p, const std::string& name, int64_t cin, int64_t cout,
                  std::vector<int64_t> kernel, std::vector<int64_t> stride,
                  std::vector<int64_t> padding) {
    Conv c;
    c.weight = p.get(name + ".weight", {cout, cin, kernel[0], kernel[1]});
    c.bias = p.get(name + ".bias", {cout});
    c.stride = std::move(stride);
    c.padding = std::move(padding);
    c.dilation = {1, 1};
    return c;
}

Conv Conv::convTr1d(Params& p, const std::string& name, int64_t cin, int64_t cout, int64_t k,
                    int64_t stride) {
    Conv c;
    c.weight = p.get(name + ".weight", {cin, cout, k});
    c.bias = p.get(name + ".bias", {cout});
    c.stride = {stride};
    c.transposed = true;
    return c;
}

Conv Conv::convTr2d(Params& p, const std::string& name, int64_t cin, int64_t cout,
                    std::vector<int64_t> kernel, std::vector<int64_t> stride) {
    Conv c;
    c.weight = p.get(name + ".weight", {cin, cout, kernel[0], kernel[1]});
    c.bias = p.get(name + ".bias", {cout});
    c.stride = std::move(stride);
    c.transposed = true;
    return c;
}

// ---- In-place helpers ------------------------------------------------------------------------

bool exclusive(const at::Tensor& t) {
    return t.use_count() == 1 && t.storage().use_count() == 1;
}

at::Tensor geluOwned(at::Tensor t) {
    return exclusive(t) ? at::gelu_(t) : at::gelu(t);
}

// ---- GroupNorm -------------------------------------------------------------------------------

at::Tensor GroupNorm::operator()(at::Tensor x) const {
    if (!groups) return x;
    // Written back into x a few groups at a time: only a slice of x is ever allocated beside it,
    // and each slice is group_norm's own result (the same kernel, the same groups). A tensor no
    // larger than a slice gains nothing from it and skips the copy back.
    constexpr int64_t kSliceElements = int64_t{2} << 20;
    if (x.numel() <= kSliceElements || !x.is_contiguous() || !exclusive(x) || x.size(1) % groups)
        return at::group_norm(x, groups, weight, bias, 1e-5);
    const int64_t n = x.size(0), c = x.size(1), perGroup = c / groups;
    const at::Tensor v = x.view({n, groups, perGroup, -1});
    const int64_t groupElements = perGroup * v.size(3);
    const int64_t rows = groups == 1 ? std::max<int64_t>(1, kSliceElements / groupElements) : 1;
    for (int64_t g = 0; g < groups; ++g) {
        const at::Tensor w = weight.narrow(0, g * perGroup, perGroup);
        const at::Tensor b = bias.narrow(0, g * perGroup, perGroup);
        for (int64_t i = 0; i < n; i += rows) {
            at::Tensor slice = v.narrow(0, i, std::min(rows, n - i)).select(1, g);
            slice.copy_(at::group_norm(slice, 1, w, b, 1e-5));
        }
    }
    return x;
}

GroupNorm GroupNorm::load(Params& p, const std::string& name, int64_t groups, int64_t channels) {
    GroupNorm n;
    if (!groups) return n;
    n.groups = groups;
    n.weight = p.get(name + ".weight", {channels});
    n.bias = p.get(name + ".bias", {channels});
    return n;
}

// ---- DConv -----------------------------------------------------------------------------------

DConv::DConv(Params& p, const std::string& name, int64_t channels, const DConvOptions& opt)
    : gelu_(opt.gelu) {
    const bool dilate = opt.depth > 0;
    const int depth = std::abs(opt.depth);
    const auto hidden = static_cast<int64_t>(static_cast<double>(channels) / opt.compress);
    for (int d = 0; d < depth; ++d) {
        const int64_t dilation = dilate ? (int64_t(1) << d) : 1;
        const int64_t padding = dilation * (opt.kernel / 2);
        const std::string prefix = name + ".layers." + std::to_string(d) + ".";
        Layer layer;
        // nn.Sequential indices: 0 conv, 1 norm, 2 act, [BLSTM], [LocalState], conv, norm, glu,
        // scale: the optional modules shift the later indices.
        layer.conv1 =
            Conv::conv1d(p, prefix + "0", channels, hidden, opt.kernel, 1, padding, dilation);
        layer.norm1 = GroupNorm::load(p, prefix + "1", opt.norm ? 1 : 0, hidden);
        int next = 3;
        if (opt.lstm)
            layer.lstm = std::make_shared<BLSTM>(p, prefix + std::to_string(next++), hidden);
        if (opt.attn)
            layer.attn = std::make_shared<LocalState>(p, prefix + std::to_string(next++), hidden);
        layer.conv2 = Conv::conv1d(p, prefix + std::to_string(next), hidden, 2 * channels, 1);
        layer.norm2 =
            GroupNorm::load(p, prefix + std::to_string(next + 1), opt.norm ? 1 : 0, 2 * channels);
        layer.scale = p.get(prefix + std::to_string(next + 3) + ".scale", {channels}).unsqueeze(1);
        layers_.push_back(std::move(layer));
    }
}

namespace {

// glu(z, 1) in z's own memory: on the outer frequency rows these are the largest tensors of the
// forward, and a separate output would add half of z again. `z` must not be shared.
at::Tensor gluInPlace(const at::Tensor& z) {
    const int64_t C = z.size(1) / 2;
    at::Tensor a = z.slice(1, 0, C);
    return a.mul_(z.slice(1, C, 2 * C).sigmoid_());  // a view into z: only z stays alive
}

}  // namespace

at::Tensor DConv::operator()(at::Tensor x) const {
    bool owned = exclusive(x);  // a tensor the caller still holds is never changed in place
    for (const auto& l : layers_) {
        at::Tensor y = l.norm1(l.conv1(x));
        y = gelu_ ? geluOwned(std::move(y)) : at::relu(y);
        if (l.lstm) y = (*l.lstm)(y);
        if (l.attn) y = (*l.attn)(y);
        y = gluInPlace(l.norm2(l.conv2(y))).mul_(l.scale);
        if (owned) {
            x.add_(y);
        } else {
            x = x + y;
            owned = true;
        }
    }
    return x;
}

// ---- HEncLayer -------------------------------------------------------------------------------

namespace {

// glu(norm(conv(x)), 1), one half of the output channels at a time when the norm's groups do not
// straddle the halves (always so for htdemucs): the whole conv output, on the outer layers the
// largest tensor of a forward, and the buffer oneDNN writes beside it are never allocated at once.
at::Tensor convNormGlu(const Conv& conv, const GroupNorm& norm, const at::Tensor& x) {
    const int64_t half = conv.weight.size(0) / 2;
    if (conv.transposed || norm.groups % 2) return at::glu(norm(conv(x)), 1);
    auto outputHalf = [&](int64_t i) {
        Conv c = conv;
        c.weight = conv.weight.narrow(0, i * half, half);
        c.bias = conv.bias.narrow(0, i * half, half);
        GroupNorm n = norm;
        if (n.groups) {
            n.groups /= 2;
            n.weight = norm.weight.narrow(0, i * half, half);
            n.bias = norm.bias.narrow(0, i * half, half);
        }
        return n(c(x));
    };
    at::Tensor out = outputHalf(0);
    return out.mul_(outputHalf(1).sigmoid_());
}

GroupNorm layerNorm(Params& p, const std::string& name, const HLayerOptions& opt,
                    int64_t channels) {
    return GroupNorm::load(p, name, opt.norm ? opt.normGroups : 0, channels);
}

// DConv over each frequency row of (B, C, F, T), or directly over (B, C, T). `y` is released as
// soon as its rows are copied out.
at::Tensor applyDConv(const DConv& dconv, at::Tensor y, bool freq) {
    if (!freq) return dconv(std::move(y));
    const auto B = y.size(0), C = y.size(1), Fr = y.size(2), T = y.size(3);
    at::Tensor rows = y.permute({0, 2, 1, 3}).reshape({-1, C, T});
    y.reset();
    at::Tensor z = dconv(std::move(rows));
    return z.view({B, Fr, C, T}).permute({0, 2, 1, 3});
}

}  // namespace

HEncLayer::HEncLayer(Params& p, const std::string& name, int64_t chin, int64_t chout,
                     const HLayerOptions& opt)
    : opt_(opt), pad_(opt.pad ? opt.kernelSize / 4 : 0) {
    const int64_t k = opt.kernelSize, s = opt.stride, ctx = opt.context;
    if (opt.freq) {
        conv_ = Conv::conv2d(p, name + ".conv", chin, chout, {k, 1}, {s, 1}, {pad_, 0});
    } else {
        conv_ = Conv::conv1d(p, name + ".conv", chin, chout, k, s, pad_);
    }
    if (opt.empty) return;
    norm1_ = layerNorm(p, name + ".norm1", opt, chout);
    if (opt.rewrite) {
        rewrite_ = opt.freq
                       ? Conv::conv2d(p, name + ".rewrite", chout, 2 * chout,
                                      {1 + 2 * ctx, 1 + 2 * ctx}, {1, 1}, {ctx, ctx})
                       : Conv::conv1d(p, name + ".rewrite", chout, 2 * chout, 1 + 2 * ctx, 1, ctx);
        norm2_ = layerNorm(p, name + ".norm2", opt, 2 * chout);
    }
    if (opt.dconv) dconv_ = std::make_unique<DConv>(p, name + ".dconv", chout, opt.dconvOptions);
}

at::Tensor HEncLayer::operator()(at::Tensor x, const at::Tensor& inject) const {
    if (!opt_.freq && x.dim() == 4) x = x.reshape({x.size(0), -1, x.size(3)});
    if (!opt_.freq) {
        const int64_t le = x.size(-1);
        if (le % opt_.stride) x = at::constant_pad_nd(x, {0, opt_.stride - le % opt_.stride});
    }
    at::Tensor y = conv_(x);
    x.reset();  // the input is freed here when the caller has moved it in
    if (opt_.empty) return y;
    if (inject.defined()) {
        if (inject.size(-1) != y.size(-1))
            throw Error("internal: branch lengths differ at the merge");
        y.add_(inject.dim() == 3 && y.dim() == 4 ? inject.unsqueeze(2) : inject);
    }
    y = geluOwned(norm1_(std::move(y)));
    if (dconv_) y = applyDConv(*dconv_, std::move(y), opt_.freq);
    if (opt_.rewrite) return convNormGlu(rewrite_, norm2_, y);
    return y;
}

// ---- HDecLayer -------------------------------------------------------------------------------

HDecLayer::HDecLayer(Params& p, const std::string& name, int64_t chin, int64_t chout,
                     const HLayerOptions& opt)
    : opt_(opt), pad_(opt.pad ? opt.kernelSize / 4 : 0), chin_(chin) {
    const int64_t k = opt.kernelSize, s = opt.stride, ctx = opt.context;
    convTr_ = opt.freq ? Conv::convTr2d(p, name + ".conv_tr", chin, chout, {k, 1}, {s, 1})
                       : Conv::convTr1d(p, name + ".conv_tr", chin, chout, k, s);
    norm2_ = layerNorm(p, name + ".norm2", opt, chout);
    if (opt.empty) return;
    if (opt.rewrite) {
        if (!opt.freq) {
            rewrite_ = Conv::conv1d(p, name + ".rewrite", chin, 2 * chin, 1 + 2 * ctx, 1, ctx);
        } else if (opt.contextFreq) {
            rewrite_ = Conv::conv2d(p, name + ".rewrite", chin, 2 * chin,
                                    {1 + 2 * ctx, 1 + 2 * ctx}, {1, 1}, {ctx, ctx});
        } else {
            rewrite_ = Conv::conv2d(p, name + ".rewrite", chin, 2 * chin, {1, 1 + 2 * ctx}, {1, 1},
                                    {0, ctx});
        }
        norm1_ = layerNorm(p, name + ".norm1", opt, 2 * chin);
    }
    if (opt.dconv) dconv_ = std::make_unique<DConv>(p, name + ".dconv", chin, opt.dconvOptions);
}

std::pair<at::Tensor, at::Tensor> HDecLayer::operator()(at::Tensor x, at::Tensor skip,
                                                        int64_t length, bool keepPre) const {
    if (opt_.freq && x.dim() == 3) x = x.view({x.size(0), chin_, -1, x.size(2)});
    at::Tensor y;
    if (!opt_.empty) {
        if (exclusive(x) && x.sizes() == skip.sizes())
            x.add_(skip);
        else
            x = x + skip;
        skip.reset();  // the encoder's output is freed here when the caller has moved it in
        y = opt_.rewrite ? convNormGlu(rewrite_, norm1_, x) : std::move(x);
        x.reset();
        if (dconv_) y = applyDConv(*dconv_, std::move(y), opt_.freq);
    } else {
        y = std::move(x);
    }
    at::Tensor z = norm2_(convTr_(y));
    if (!keepPre) y.reset();
    if (opt_.freq) {
        if (pad_) z = z.slice(2, pad_, z.size(2) - pad_);
    } else {
        z = z.slice(2, pad_, pad_ + length);
        if (z.size(-1) != length) throw Error("internal: decoder output length mismatch");
    }
    if (!opt_.last) z = geluOwned(std::move(z));
    return {z, y};
}

// ---- padding ---------------------------------------------------------------------------------

at::Tensor reflectPad1d(const at::Tensor& input, int64_t left, int64_t right) {
    at::Tensor x = input;
    const int64_t length = x.size(-1);
    const int64_t maxPad = std::max(left, right);
    if (length <= maxPad) {
        // Reflection needs more samples than there are: extend with zeros first.
        const int64_t extra = maxPad - length + 1;
        const int64_t extraRight = std::min(right, extra);
        const int64_t extraLeft = extra - extraRight;
        left -= extraLeft;
        right -= extraRight;
        x = at::constant_pad_nd(x, {extraLeft, extraRight});
    }
    // reflection_pad1d wants (C, T) or (N, C, T)
    const auto shape = x.sizes().vec();
    at::Tensor flat = x.reshape({-1, 1, shape.back()});
    at::Tensor out = at::reflection_pad1d(flat, {left, right});
    auto outShape = shape;
    outShape.back() = out.size(-1);
    return out.view(outShape);
}

}  // namespace msplit::engine
