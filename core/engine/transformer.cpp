#include "core/engine/transformer.h"

#include <cmath>

#include "core/engine/error.h"
#include "core/engine/layers.h"

namespace msplit::engine {
namespace {

// Attention scores computed at once (elements, 16 MB): large enough for efficient matrix
// products (hundreds of query rows), small enough to keep the forward's peak memory elsewhere.
constexpr int64_t kScoreBlockElements = int64_t(1) << 22;

TokenNorm loadNorm(Params& p, const std::string& name, TokenNorm::Kind kind, int64_t groups,
                   int64_t dim) {
    TokenNorm n;
    n.kind = kind;
    n.groups = groups;
    if (kind != TokenNorm::Kind::Identity) {
        n.weight = p.get(name + ".weight", {dim});
        n.bias = p.get(name + ".bias", {dim});
    }
    return n;
}

// (length, 1, dim) sinusoidal embedding, computed in float32 like transformer.py.
at::Tensor sinEmbedding(int64_t length, int64_t dim, double maxPeriod, const at::Tensor& pos) {
    const int64_t half = dim / 2;
    auto f32 = pos.options().dtype(at::kFloat);
    at::Tensor adim = at::arange(half, f32).view({1, 1, -1}) / static_cast<double>(half - 1);
    at::Tensor phase = pos / at::pow(maxPeriod, adim);
    return at::cat({at::cos(phase), at::sin(phase)}, -1);
}

// (1, T1 * F, C) two-dimensional embedding in the (t1 fr) token order.
at::Tensor sin2dEmbedding(int64_t dModel, int64_t height, int64_t width, double maxPeriod,
                          const at::TensorOptions& o) {
    if (dModel % 4) throw Error("transformer dimension must be a multiple of 4");
    auto f32 = o.dtype(at::kFloat);
    at::Tensor pe = at::zeros({dModel, height, width}, f32);
    const int64_t d = dModel / 2;
    at::Tensor divTerm =
        at::exp(at::arange(0., static_cast<double>(d), 2., f32) * -(std::log(maxPeriod) / d));
    at::Tensor posW = at::arange(0., static_cast<double>(width), f32).unsqueeze(1);
    at::Tensor posH = at::arange(0., static_cast<double>(height), f32).unsqueeze(1);
    pe.slice(0, 0, d, 2).copy_(at::sin(posW * divTerm).t().unsqueeze(1).repeat({1, height, 1}));
    pe.slice(0, 1, d, 2).copy_(at::cos(posW * divTerm).t().unsqueeze(1).repeat({1, height, 1}));
    pe.slice(0, d, dModel, 2).copy_(at::sin(posH * divTerm).t().unsqueeze(2).repeat({1, 1, width}));
    pe.slice(0, d + 1, dModel, 2)
        .copy_(at::cos(posH * divTerm).t().unsqueeze(2).repeat({1, 1, width}));
    return pe.permute({2, 1, 0}).reshape({1, width * height, dModel});
}

}  // namespace

at::Tensor TokenNorm::operator()(const at::Tensor& x) const {
    switch (kind) {
        case Kind::Identity:
            return x;
        case Kind::Layer:
            return at::layer_norm(x, {x.size(-1)}, weight, bias, 1e-5);
        case Kind::Group:
            return at::group_norm(x.transpose(1, 2), groups, weight, bias, 1e-5).transpose(1, 2);
    }
    return x;
}

CrossTransformer::CrossTransformer(Params& p, const std::string& name,
                                   const TransformerOptions& opt)
    : opt_(opt) {
    if (opt.dim % opt.heads)
        throw Error("transformer dimension is not a multiple of the number of heads");
    if (opt.emb != "sin" && opt.emb != "cape" && opt.emb != "scaled")
        throw Error("unknown transformer embedding '" + opt.emb + "'");
    using K = TokenNorm::Kind;
    if (opt.normIn) {
        normIn_ = loadNorm(p, name + ".norm_in", K::Layer, 1, opt.dim);
        normInT_ = loadNorm(p, name + ".norm_in_t", K::Layer, 1, opt.dim);
    } else if (opt.normInGroup) {
        normIn_ = loadNorm(p, name + ".norm_in", K::Group, opt.normInGroup, opt.dim);
        normInT_ = loadNorm(p, name + ".norm_in_t", K::Group, opt.normInGroup, opt.dim);
    }
    if (opt.emb == "scaled")
        positionEmbeddings_ =
            p.get(name + ".position_embeddings.embedding.weight", {opt.maxPositions, opt.dim}) *
            3.0;
    const int classicParity = opt.crossFirst ? 1 : 0;
    for (int64_t i = 0; i < opt.layers; ++i) {
        const bool cross = i % 2 != classicParity;
        layers_.push_back(loadLayer(p, name + ".layers." + std::to_string(i), cross));
        layersT_.push_back(loadLayer(p, name + ".layers_t." + std::to_string(i), cross));
    }
}

CrossTransformer::Layer CrossTransformer::loadLayer(Params& p, const std::string& name,
                                                    bool cross) const {
    const int64_t d = opt_.dim,
                  hidden = static_cast<int64_t>(static_cast<double>(d) * opt_.hiddenScale);
    using K = TokenNorm::Kind;
    const K kind = opt_.groupNorm ? K::Group : K::Layer;
    Layer l;
    l.cross = cross;
    const std::string attn = name + (cross ? ".cross_attn" : ".self_attn");
    l.attn.inWeight = p.get(attn + ".in_proj_weight", {3 * d, d});
    l.attn.inBias = p.get(attn + ".in_proj_bias", {3 * d});
    l.attn.outWeight = p.get(attn + ".out_proj.weight", {d, d});
    l.attn.outBias = p.get(attn + ".out_proj.bias", {d});
    l.linear1W = p.get(name + ".linear1.weight", {hidden, d});
    l.linear1B = p.get(name + ".linear1.bias", {hidden});
    l.linear2W = p.get(name + ".linear2.weight", {d, hidden});
    l.linear2B = p.get(name + ".linear2.bias", {d});
    l.norm1 = loadNorm(p, name + ".norm1", kind, opt_.groupNorm, d);
    l.norm2 = loadNorm(p, name + ".norm2", kind, opt_.groupNorm, d);
    if (cross) l.norm3 = loadNorm(p, name + ".norm3", kind, opt_.groupNorm, d);
    if (opt_.normFirst && opt_.normOut)
        l.normOut = loadNorm(p, name + ".norm_out", K::Group, opt_.normOut, d);
    if (opt_.layerScale) {
        l.gamma1 = p.get(name + ".gamma_1.scale", {d});
        l.gamma2 = p.get(name + ".gamma_2.scale", {d});
    }
    return l;
}

at::Tensor CrossTransformer::attention(const Attention& a, const at::Tensor& q,
                                       const at::Tensor& kv) const {
    const int64_t B = q.size(0), Tq = q.size(1), Tk = kv.size(1), C = q.size(2);
    const int64_t H = opt_.heads, D = C / H;
    at::Tensor qp, kp, vp;
    if (q.is_same(kv)) {
        auto qkv = at::linear(q, a.inWeight, a.inBias).chunk(3, -1);
        qp = qkv[0], kp = qkv[1], vp = qkv[2];
    } else {
        auto w = a.inWeight.chunk(3, 0);
        auto b = a.inBias.chunk(3, 0);
        qp = at::linear(q, w[0], b[0]);
        kp = at::linear(kv, w[1], b[1]);
        vp = at::linear(kv, w[2], b[2]);
    }
    qp = (qp.view({B, Tq, H, D}).transpose(1, 2) * (1.0 / std::sqrt(static_cast<double>(D))))
             .contiguous();
    at::Tensor kt = kp.view({B, Tk, H, D}).permute({0, 2, 3, 1}).contiguous();  // (B, H, D, Tk)
    vp = vp.view({B, Tk, H, D}).transpose(1, 2).contiguous();                   // (B, H, Tk, D)
    // Query rows in blocks, so the full (H, Tq, Tk) score matrix, hundreds of MB for a 7.8 s
    // segment (more with batched segments), is never allocated at once; the blocks share one
    // score buffer, and the softmax runs in it, so a layer allocates it once, not twice a block.
    const int64_t rows =
        std::min(Tq, std::max<int64_t>(16, kScoreBlockElements / std::max<int64_t>(1, B * H * Tk)));
    at::Tensor scoreBuffer = at::empty({B * H * rows * Tk}, q.options());
    at::Tensor contextBuffer = at::empty({B * H * rows * D}, q.options());
    const at::Tensor q3 = qp.view({B * H, Tq, D});
    const at::Tensor k3 = kt.view({B * H, D, Tk});
    const at::Tensor v3 = vp.view({B * H, Tk, D});
    at::Tensor out = at::empty({B, Tq, H, D}, q.options());
    for (int64_t start = 0; start < Tq; start += rows) {
        const int64_t n = std::min(Tq, start + rows) - start;
        at::Tensor scores = scoreBuffer.narrow(0, 0, B * H * n * Tk).view({B * H, n, Tk});
        at::bmm_out(scores, q3.narrow(1, start, n), k3);
        at::_softmax_out(scores, scores, -1, false);
        at::Tensor context = contextBuffer.narrow(0, 0, B * H * n * D).view({B * H, n, D});
        at::bmm_out(context, scores, v3);
        out.slice(1, start, start + n).copy_(context.view({B, H, n, D}).transpose(1, 2));
    }
    return at::linear(out.view({B, Tq, C}), a.outWeight, a.outBias);
}

at::Tensor CrossTransformer::layerForward(const Layer& l, const at::Tensor& x,
                                          const at::Tensor& kv) const {
    auto scale1 = [&](const at::Tensor& t) { return l.gamma1.defined() ? l.gamma1 * t : t; };
    auto scale2 = [&](const at::Tensor& t) { return l.gamma2.defined() ? l.gamma2 * t : t; };
    auto ff = [&](const at::Tensor& t) {
        at::Tensor h = at::linear(t, l.linear1W, l.linear1B);
        h = opt_.gelu ? geluOwned(std::move(h)) : at::relu(h);
        return at::linear(h, l.linear2W, l.linear2B);
    };
    at::Tensor y;
    if (!l.cross) {
        if (opt_.normFirst) {
            at::Tensor n = l.norm1(x);
            y = x + scale1(attention(l.attn, n, n));
            y = y + scale2(ff(l.norm2(y)));
            y = l.normOut(y);
        } else {
            y = l.norm1(x + scale1(attention(l.attn, x, x)));
            y = l.norm2(y + scale2(ff(y)));
        }
    } else {
        if (opt_.normFirst) {
            y = x + scale1(attention(l.attn, l.norm1(x), l.norm2(kv)));
            y = y + scale2(ff(l.norm3(y)));
            y = l.normOut(y);
        } else {
            y = l.norm1(x + scale1(attention(l.attn, x, kv)));
            y = l.norm2(y + scale2(ff(y)));
        }
    }
    return y;
}

at::Tensor CrossTransformer::positionalEmbedding(int64_t length, int64_t batch,
                                                 const at::TensorOptions& o) const {
    if (opt_.emb == "scaled") {
        if (length > opt_.maxPositions)
            throw Error("sequence longer than the transformer's maximum positions");
        return positionEmbeddings_.slice(0, 0, length).unsqueeze(0);  // (1, T, C)
    }
    auto f32 = o.dtype(at::kFloat);
    if (opt_.emb == "cape") {
        at::Tensor pos = at::arange(length, f32).view({-1, 1, 1}).repeat({1, batch, 1});
        if (opt_.capeMeanNormalize) pos = pos - pos.mean(0, true);
        return sinEmbedding(length, opt_.dim, opt_.maxPeriod, pos).permute({1, 0, 2});  // (B, T, C)
    }
    at::Tensor pos = at::arange(length, o.dtype(at::kLong)).view({-1, 1, 1});
    return sinEmbedding(length, opt_.dim, opt_.maxPeriod, pos).permute({1, 0, 2});  // (1, T, C)
}

std::pair<at::Tensor, at::Tensor> CrossTransformer::operator()(at::Tensor x, at::Tensor xt) const {
    const int64_t B = x.size(0), C = x.size(1), Fr = x.size(2), T1 = x.size(3), T2 = xt.size(2);
    at::Tensor pos2d = sin2dEmbedding(C, Fr, T1, opt_.maxPeriod, x.options());
    x = x.permute({0, 3, 2, 1}).reshape({B, T1 * Fr, C});
    x = normIn_(x) + opt_.weightPosEmbed * pos2d.to(x.dtype());
    xt = xt.permute({0, 2, 1});
    xt = normInT_(xt) +
         opt_.weightPosEmbed * positionalEmbedding(T2, B, xt.options()).to(xt.dtype());

    for (size_t i = 0; i < layers_.size(); ++i) {
        if (!layers_[i].cross) {
            x = layerForward(layers_[i], x, x);
            xt = layerForward(layersT_[i], xt, xt);
        } else {
            at::Tensor oldX = x;
            x = layerForward(layers_[i], x, xt);
            xt = layerForward(layersT_[i], xt, oldX);
        }
    }
    x = x.view({B, T1, Fr, C}).permute({0, 3, 2, 1});
    xt = xt.permute({0, 2, 1});
    return {x, xt};
}

}  // namespace msplit::engine
