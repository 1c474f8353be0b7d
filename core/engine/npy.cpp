#include "core/engine/npy.h"

#include <cstdio>
#include <fstream>
#include <regex>

#include "core/engine/error.h"

namespace msplit::engine {

at::Tensor readNpy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot open " + path);
    char magic[8];
    in.read(magic, 8);
    if (!in || std::string(magic, 6) != "\x93NUMPY") throw Error(path + " is not a .npy file");
    uint32_t headerLen = 0;
    if (magic[6] == 1) {
        uint16_t h = 0;
        in.read(reinterpret_cast<char*>(&h), 2);
        headerLen = h;
    } else {
        in.read(reinterpret_cast<char*>(&headerLen), 4);
    }
    if (!in || headerLen > 65536) throw Error(path + ": bad .npy header");
    std::string header(headerLen, '\0');
    in.read(header.data(), headerLen);
    if (header.find("'descr': '<f4'") == std::string::npos)
        throw Error(path + ": only float32 .npy files are supported");
    if (header.find("'fortran_order': False") == std::string::npos)
        throw Error(path + ": Fortran order not supported");
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'shape': \\(([^)]*)\\)")))
        throw Error(path + ": no shape");
    std::vector<int64_t> shape;
    std::string dims = m[1];
    std::regex num("[0-9]+");
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num);
         it != std::sregex_iterator(); ++it)
        shape.push_back(std::stoll(it->str()));
    at::Tensor t = at::empty(shape, at::kFloat);
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * 4));
    if (!in) throw Error(path + ": truncated data");
    return t;
}

void writeNpy(const std::string& path, const at::Tensor& tensor) {
    at::Tensor t = tensor.to(at::kCPU, at::kFloat).contiguous();
    std::string shape;
    for (int64_t i = 0; i < t.dim(); ++i)
        shape += std::to_string(t.size(i)) + (t.dim() == 1 || i + 1 < t.dim() ? "," : "");
    if (t.dim() > 1 && !shape.empty() && shape.back() == ',') shape.pop_back();
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw Error("cannot write " + path);
        out.write("\x93NUMPY\x01\x00", 8);
        const auto len = static_cast<uint16_t>(header.size());
        out.write(reinterpret_cast<const char*>(&len), 2);
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        out.write(static_cast<const char*>(t.data_ptr()),
                  static_cast<std::streamsize>(t.numel() * 4));
        if (!out.flush()) {
            std::remove(tmp.c_str());
            throw Error("cannot write " + path + " (disk full?)");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error("cannot write " + path);
    }
}

}  // namespace msplit::engine
