#pragma once
// Own time per operator and input shapes over a scope, from LibTorch's profiler: which
// convolution or product of a forward pass costs what, to choose where to optimise.
#include <memory>
#include <string>

namespace msplit::engine {

class OpProfile {
public:
    // Profiles the calling thread's operators from now until destruction, which writes every
    // (operator, shapes) row to `tablePath` and prints the `top` rows by own time to stdout.
    explicit OpProfile(std::string tablePath, int top = 30);
    ~OpProfile();
    OpProfile(const OpProfile&) = delete;
    OpProfile& operator=(const OpProfile&) = delete;

private:
    struct Guard;
    std::string tablePath_;
    int top_;
    std::unique_ptr<Guard> guard_;
};

}  // namespace msplit::engine
