#pragma once
// Applying a bag to a song that arrives in pieces and leaves in pieces: the mix is read in order
// as the segments need it, and finished estimates are written in order as soon as every segment,
// shift and model that covers them has run. Memory depends on the segment length, not the song's.
//
// The arithmetic is apply.py's, operation for operation (segment weights summed in segment
// order, shifts summed in shift order, models weighted in bag order), so the result equals a
// whole-song application sample for sample, however the reads are cut.
#include <ATen/ATen.h>

#include <functional>

#include "core/engine/apply.h"

namespace msplit::engine {

// Returns the next frames of the mix, in order: a (B, channels, n) float tensor on the CPU with
// 1 <= n <= `max`. It is asked only for frames that exist (the length is known up front).
using MixReader = std::function<at::Tensor(int64_t max)>;
// Receives the estimates of the next frames, in order: (B, sources, channels, n) on the CPU.
using EstimateWriter = std::function<void(const at::Tensor& estimates)>;

// applyBag, streamed: `length` frames of a (B, channels) mix. Throws as applyBag does.
void applyBagStreamed(const Bag& bag, int64_t length, const MixReader& read,
                      const EstimateWriter& write, const ApplyOptions& options,
                      const ProgressCallback& progress = {}, const CancelToken* cancel = nullptr);

}  // namespace msplit::engine
