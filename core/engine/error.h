#pragma once
// The engine's only error type: a message a user can act on. The engine never aborts on bad input.
#include <stdexcept>
#include <string>

namespace msplit::engine {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown when a CancelToken is triggered between segments.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

}  // namespace msplit::engine
