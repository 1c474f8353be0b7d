#pragma once
// One error type for everything in core: a kind the UI can act on, the file or URL concerned,
// and a message written for the user.
#include <stdexcept>
#include <string>

namespace msplit {

enum class ErrorKind {
    NotFound,      // missing file or unknown model
    InvalidInput,  // empty, corrupt, truncated or not what it claims to be
    NoAudio,       // a readable container without an audio stream, or zero-length audio
    Unsupported,   // a codec, format or model feature we cannot handle
    Io,            // read/write failures (permissions, full disk, ...)
    Network,
    Cancelled,
    Internal,
};

const char* errorKindName(ErrorKind kind);

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string subject, const std::string& reason)
        : std::runtime_error(subject.empty() ? reason : subject + ": " + reason),
          kind_(kind),
          subject_(std::move(subject)),
          reason_(reason) {}

    ErrorKind kind() const { return kind_; }
    // The file, URL or model the error is about (may be empty).
    const std::string& subject() const { return subject_; }
    const std::string& reason() const { return reason_; }

private:
    ErrorKind kind_;
    std::string subject_;
    std::string reason_;
};

}  // namespace msplit
