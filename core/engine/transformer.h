#pragma once
// The cross-domain transformer between HTDemucs' two branches (transformer.py), inference only.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "core/engine/params.h"

namespace msplit::engine {

struct TransformerOptions {
    int64_t dim = 384;
    double hiddenScale = 4.0;
    int64_t heads = 8;
    int64_t layers = 5;
    bool crossFirst = false;
    std::string emb = "sin";  // "sin", "cape" or "scaled"
    int64_t maxPositions = 10000;
    bool normIn = true;
    int64_t normInGroup = 0;  // GroupNorm groups for the input norm when normIn is false
    int64_t groupNorm = 0;    // GroupNorm groups instead of LayerNorm in the layers
    bool normFirst = true;
    int64_t normOut = 1;  // groups of the output GroupNorm (0: none)
    double maxPeriod = 10000.0;
    bool layerScale = true;
    bool gelu = true;
    double weightPosEmbed = 1.0;
    bool capeMeanNormalize = true;
};

// One norm of the transformer: LayerNorm over channels, or GroupNorm over (T, C), or identity.
struct TokenNorm {
    enum class Kind { Identity, Layer, Group } kind = Kind::Identity;
    int64_t groups = 1;
    at::Tensor weight, bias;
    at::Tensor operator()(const at::Tensor& x) const;  // x: (B, T, C)
};

class CrossTransformer {
public:
    CrossTransformer(Params& p, const std::string& name, const TransformerOptions& opt);
    // x: (B, C, F, T1) spectral branch, xt: (B, C, T2) temporal branch.
    std::pair<at::Tensor, at::Tensor> operator()(at::Tensor x, at::Tensor xt) const;

private:
    struct Attention {
        at::Tensor inWeight, inBias, outWeight, outBias;
    };
    struct Layer {
        bool cross = false;
        Attention attn;
        at::Tensor linear1W, linear1B, linear2W, linear2B;
        TokenNorm norm1, norm2, norm3, normOut;
        at::Tensor gamma1, gamma2;
    };
    Layer loadLayer(Params& p, const std::string& name, bool cross) const;
    at::Tensor attention(const Attention& a, const at::Tensor& q, const at::Tensor& kv) const;
    at::Tensor layerForward(const Layer& l, const at::Tensor& x, const at::Tensor& kv) const;
    at::Tensor positionalEmbedding(int64_t length, int64_t batch,
                                   const at::TensorOptions& options) const;

    TransformerOptions opt_;
    TokenNorm normIn_, normInT_;
    at::Tensor positionEmbeddings_;  // "scaled" embedding only
    std::vector<Layer> layers_, layersT_;
};

}  // namespace msplit::engine
