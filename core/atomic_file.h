#pragma once
// A temporary file beside a target, renamed onto it on commit and removed otherwise: readers
// never see a half-written file under the final name.
#include <string>

namespace msplit {

class AtomicFile {
public:
    // Creates `.NAME.XXXXXX.part` in the target's folder. Throws Error (Io).
    explicit AtomicFile(std::string target);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::string& tempPath() const { return temp_; }
    // Flushes the temporary file to disk and renames it onto the target. Throws Error (Io).
    void commit();
    // The same onto another name in that folder, for names that depend on the content (a
    // checksum) and so are known only once it is written.
    void commitAs(const std::string& target);

private:
    std::string target_;
    std::string temp_;
    bool committed_ = false;
};

}  // namespace msplit
