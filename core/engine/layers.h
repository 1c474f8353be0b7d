#pragma once
// The building blocks Demucs v3 and v4 share: convolutions, normalisation, the DConv residual
// branch and the hybrid encoder/decoder layers (hdemucs.py, demucs.py).
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "core/engine/params.h"

namespace msplit::engine {

// A convolution (1-D or 2-D, plain or transposed) with its weights.
struct Conv {
    at::Tensor weight, bias;
    std::vector<int64_t> stride, padding, dilation;
    bool transposed = false;

    at::Tensor operator()(const at::Tensor& x) const;

    // Conv1d(cin, cout, k, stride, padding, dilation)
    static Conv conv1d(Params& p, const std::string& name, int64_t cin, int64_t cout, int64_t k,
                       int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1);
    // Conv2d(cin, cout, [kh, kw], [sh, sw], [ph, pw])
    static Conv conv2d(Params& p, const std::string& name, int64_t cin, int64_t cout,
                       std::vector<int64_t> kernel, std::vector<int64_t> stride,
                       std::vector<int64_t> padding);
    // ConvTranspose1d / 2d (no padding: the layers crop themselves)
    static Conv convTr1d(Params& p, const std::string& name, int64_t cin, int64_t cout, int64_t k,
                         int64_t stride);
    static Conv convTr2d(Params& p, const std::string& name, int64_t cin, int64_t cout,
                         std::vector<int64_t> kernel, std::vector<int64_t> stride);
};

// True when nothing else holds `t` or its memory, so it may be overwritten.
bool exclusive(const at::Tensor& t);

// GELU, in t's own memory when `exclusive`.
at::Tensor geluOwned(at::Tensor t);

// GroupNorm, or the identity when `groups` is 0.
struct GroupNorm {
    int64_t groups = 0;
    at::Tensor weight, bias;
    // Normalises in x's own memory when nothing else holds it (pass temporaries or std::move):
    // the outer layers' conv outputs are the largest tensors of a forward.
    at::Tensor operator()(at::Tensor x) const;
    static GroupNorm load(Params& p, const std::string& name, int64_t groups, int64_t channels);
};

struct DConvOptions {
    int depth = 2;  // negative: no dilation
    double compress = 4;
    bool norm = true;
    bool gelu = true;
    bool attn = false;  // LocalState (v3 deep layers)
    bool lstm = false;  // BLSTM (v3 deep layers)
    int kernel = 3;
};

class BLSTM;
class LocalState;

// Residual branch of dilated convolutions (demucs.py DConv), applied on (B, C, T).
class DConv {
public:
    DConv(Params& p, const std::string& name, int64_t channels, const DConvOptions& opt);
    at::Tensor operator()(at::Tensor x) const;

private:
    struct Layer {
        Conv conv1;
        GroupNorm norm1;
        std::shared_ptr<BLSTM> lstm;       // v3 deep layers only
        std::shared_ptr<LocalState> attn;  // v3 deep layers only
        Conv conv2;
        GroupNorm norm2;
        at::Tensor scale;
    };
    std::vector<Layer> layers_;
    bool gelu_;
};

struct HLayerOptions {
    int64_t kernelSize = 8;
    int64_t stride = 4;
    int64_t normGroups = 4;
    bool empty = false;
    bool freq = true;
    bool dconv = true;
    bool norm = true;
    int64_t context = 0;
    bool pad = true;
    bool rewrite = true;
    bool last = false;        // decoder only: no GELU at the end
    bool contextFreq = true;  // decoder only
    DConvOptions dconvOptions;
};

// Encoder layer of either branch (hdemucs.py HEncLayer).
class HEncLayer {
public:
    HEncLayer(Params& p, const std::string& name, int64_t chin, int64_t chout,
              const HLayerOptions& opt);
    at::Tensor operator()(at::Tensor x, const at::Tensor& inject = {}) const;
    bool empty() const { return opt_.empty; }

private:
    HLayerOptions opt_;
    int64_t pad_;
    Conv conv_, rewrite_;
    GroupNorm norm1_, norm2_;
    std::unique_ptr<DConv> dconv_;
};

// Decoder layer of either branch (hdemucs.py HDecLayer). Returns (output, pre) where `pre` is
// the input of the final transposed convolution (undefined unless `keepPre`). Inputs the caller
// moves in are freed, or written over, as soon as they are used.
class HDecLayer {
public:
    HDecLayer(Params& p, const std::string& name, int64_t chin, int64_t chout,
              const HLayerOptions& opt);
    std::pair<at::Tensor, at::Tensor> operator()(at::Tensor x, at::Tensor skip, int64_t length,
                                                 bool keepPre = false) const;
    bool empty() const { return opt_.empty; }

private:
    HLayerOptions opt_;
    int64_t pad_;
    int64_t chin_;
    Conv convTr_, rewrite_;
    GroupNorm norm1_, norm2_;
    std::unique_ptr<DConv> dconv_;
};

// Reflect padding that also works when the input is shorter than the padding (hdemucs.py pad1d).
at::Tensor reflectPad1d(const at::Tensor& x, int64_t left, int64_t right);

}  // namespace msplit::engine
