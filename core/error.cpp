#include "core/error.h"

namespace msplit {

const char* errorKindName(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::NotFound:
            return "not found";
        case ErrorKind::InvalidInput:
            return "invalid input";
        case ErrorKind::NoAudio:
            return "no audio";
        case ErrorKind::Unsupported:
            return "unsupported";
        case ErrorKind::Io:
            return "I/O error";
        case ErrorKind::Network:
            return "network error";
        case ErrorKind::Cancelled:
            return "cancelled";
        case ErrorKind::Internal:
            return "internal error";
    }
    return "error";
}

}  // namespace msplit
