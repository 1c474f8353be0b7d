#include "core/engine/pickle.h"

#include <cstring>
#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/engine/error.h"

namespace msplit::engine {

// ---- Unpickler -----------------------------------------------------------------------------

namespace {

PyRef make(PyValue::Type t) {
    return std::make_shared<PyValue>(t);
}

PyRef makeInt(int64_t v) {
    auto p = make(PyValue::Type::Int);
    p->integer = v;
    return p;
}

PyRef makeString(std::string s, PyValue::Type t = PyValue::Type::String) {
    auto p = make(t);
    p->text = std::move(s);
    return p;
}

bool isContainer(const PyValue& v) {
    return v.type == PyValue::Type::List || v.type == PyValue::Type::Tuple ||
           v.type == PyValue::Type::Dict;
}

at::ScalarType storageDtype(const std::string& name) {
    static const std::map<std::string, at::ScalarType> types = {
        {"torch.HalfStorage", at::kHalf},     {"torch.FloatStorage", at::kFloat},
        {"torch.DoubleStorage", at::kDouble}, {"torch.BFloat16Storage", at::kBFloat16},
        {"torch.LongStorage", at::kLong},     {"torch.IntStorage", at::kInt},
        {"torch.ShortStorage", at::kShort},   {"torch.CharStorage", at::kChar},
        {"torch.ByteStorage", at::kByte},     {"torch.BoolStorage", at::kBool},
    };
    auto it = types.find(name);
    if (it == types.end()) throw Error("unsupported storage type " + name);
    return it->second;
}

class Unpickler {
public:
    Unpickler(const std::string& data, const StorageLoader& loader, const PickleLimits& limits)
        : data_(data), loader_(loader), limits_(limits) {}

    PyRef run() {
        while (true) {
            if (pos_ >= data_.size()) throw Error("pickle ends without STOP (truncated file?)");
            const size_t opPos = pos_;
            const uint8_t op = static_cast<uint8_t>(data_[pos_++]);
            if (op == '.') {
                if (stack_.size() != 1 || !marks_.empty())
                    throw Error("malformed pickle: unbalanced stack at STOP");
                return stack_.back();
            }
            step(op, opPos);
            if (stack_.size() > limits_.maxStack) throw Error("pickle stack too large");
        }
    }

private:
    // -- reading primitives
    const char* take(size_t n) {
        if (n > data_.size() - pos_) throw Error("pickle data truncated");
        const char* p = data_.data() + pos_;
        pos_ += n;
        return p;
    }
    uint64_t readLE(size_t n) {
        const auto* p = reinterpret_cast<const uint8_t*>(take(n));
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i)
            v |= static_cast<uint64_t>(p[i]) << (8 * i);
        return v;
    }
    std::string readLine() {
        size_t end = data_.find('\n', pos_);
        if (end == std::string::npos) throw Error("pickle data truncated");
        std::string s = data_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return s;
    }
    std::string readBytes(uint64_t n) {
        if (n > data_.size() - pos_) throw Error("pickle string longer than the data");
        return std::string(take(static_cast<size_t>(n)), static_cast<size_t>(n));
    }

    // -- stack
    void push(PyRef v) { stack_.push_back(std::move(v)); }
    PyRef pop() {
        if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
            throw Error("malformed pickle: stack underflow");
        PyRef v = std::move(stack_.back());
        stack_.pop_back();
        return v;
    }
    PyRef& top() {
        if (stack_.empty()) throw Error("malformed pickle: empty stack");
        return stack_.back();
    }
    std::vector<PyRef> popMark() {
        if (marks_.empty()) throw Error("malformed pickle: no MARK");
        size_t m = marks_.back();
        marks_.pop_back();
        std::vector<PyRef> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
        stack_.resize(m);
        return items;
    }

    // Containers may only hold values that do not contain them (no cycles), and nesting is
    // bounded from the top: every value remembers the deepest level it sits at, so that lists
    // nested top-down through the memo (each new one appended to the one before) are counted
    // as deep as they are. Walks a child's whole subtree once per adoption (bounded in visits).
    void place(PyValue& v, const PyValue* forbidden, size_t level) {
        if (&v == forbidden) throw Error("malformed pickle: a container that contains itself");
        if (++visits_ > kMaxVisits) throw Error("pickle too complex (too many nested references)");
        if (level > limits_.maxDepth)
            throw Error("pickle nesting deeper than " + std::to_string(limits_.maxDepth) +
                        " levels");
        if (level <= v.nesting) return;  // already placed at least this deep, subtree and all
        v.nesting = level;
        if (!isContainer(v)) return;
        for (const auto& c : v.items)
            place(*c, forbidden, level + 1);
        for (const auto& [k, c] : v.entries) {
            place(*k, forbidden, level + 1);
            place(*c, forbidden, level + 1);
        }
    }
    void checkChild(const PyValue& container, PyValue& child) {
        if (&child == &container) throw Error("malformed pickle: a container that contains itself");
        if (isContainer(child)) cycleCheck(child, &container);
        place(child, &container, container.nesting + 1);
    }
    // Whether `forbidden` is inside v (it would then contain itself).
    void cycleCheck(const PyValue& v, const PyValue* forbidden) {
        if (&v == forbidden) throw Error("malformed pickle: a container that contains itself");
        if (++visits_ > kMaxVisits) throw Error("pickle too complex (too many nested references)");
        if (!isContainer(v)) return;  // depth: bounded by the nesting every value was placed at
        for (const auto& c : v.items)
            cycleCheck(*c, forbidden);
        for (const auto& [k, c] : v.entries) {
            cycleCheck(*k, forbidden);
            cycleCheck(*c, forbidden);
        }
    }
    PyRef makeSequence(PyValue::Type t, std::vector<PyRef> items) {
        auto v = make(t);
        for (const auto& item : items)
            checkChild(*v, *item);
        v->items = std::move(items);
        return v;
    }
    void append(PyValue& list, PyRef item) {
        if (list.type != PyValue::Type::List)
            throw Error("malformed pickle: APPEND to a " + list.typeName());
        checkChild(list, *item);
        list.items.push_back(std::move(item));
    }
    void setItem(PyValue& dict, PyRef key, PyRef value) {
        if (dict.type != PyValue::Type::Dict)
            throw Error("malformed pickle: SETITEM on a " + dict.typeName());
        checkChild(dict, *key);
        checkChild(dict, *value);
        dict.entries.emplace_back(std::move(key), std::move(value));
    }

    // -- memo
    void memoPut(uint64_t index) {
        if (memo_.size() >= limits_.maxMemo && !memo_.count(index))
            throw Error("pickle memo too large");
        memo_[index] = top();
    }
    PyRef memoGet(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end())
            throw Error("malformed pickle: unknown memo entry " + std::to_string(index));
        return it->second;
    }

    // -- globals, calls
    PyRef global(const std::string& module, const std::string& name) {
        return makeString(module + "." + name, PyValue::Type::Global);
    }
    PyRef reduce(const PyValue& callable, const PyValue& args) {
        if (callable.type != PyValue::Type::Global)
            throw Error("malformed pickle: REDUCE on a " + callable.typeName());
        if (args.type != PyValue::Type::Tuple)
            throw Error("malformed pickle: REDUCE arguments are not a tuple");
        const std::string& f = callable.text;
        const auto& a = args.items;
        if (f == "collections.OrderedDict" && a.empty()) return make(PyValue::Type::Dict);
        if (f == "fractions.Fraction") return fraction(a);
        if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor")
            return rebuildTensor(a);
        if (f == "torch._utils._rebuild_parameter" && !a.empty() &&
            a[0]->type == PyValue::Type::Tensor)
            return a[0];
        throw Error("refusing to call " + f + ": a checkpoint may only hold data, not code");
    }
    PyRef fraction(const std::vector<PyRef>& a) {
        auto v = make(PyValue::Type::Fraction);
        if (a.size() == 2 && a[0]->type == PyValue::Type::Int && a[1]->type == PyValue::Type::Int) {
            v->integer = a[0]->integer;
            v->denominator = a[1]->integer;
        } else if (a.size() == 1 && a[0]->type == PyValue::Type::String) {
            const std::string& s = a[0]->text;
            size_t slash = s.find('/');
            try {
                v->integer = std::stoll(s.substr(0, slash));
                v->denominator = slash == std::string::npos ? 1 : std::stoll(s.substr(slash + 1));
            } catch (const std::exception&) {
                throw Error("malformed Fraction '" + s + "'");
            }
        } else if (a.size() == 1 && a[0]->type == PyValue::Type::Int) {
            v->integer = a[0]->integer;
        } else {
            throw Error("malformed Fraction arguments");
        }
        if (v->denominator <= 0) throw Error("malformed Fraction: denominator must be positive");
        return v;
    }
    PyRef rebuildTensor(const std::vector<PyRef>& a) {
        if (a.size() < 4 || a[0]->type != PyValue::Type::Tensor ||
            a[1]->type != PyValue::Type::Int || a[2]->type != PyValue::Type::Tuple ||
            a[3]->type != PyValue::Type::Tuple)
            throw Error("malformed tensor record in checkpoint");
        const at::Tensor& storage = a[0]->tensor;
        const int64_t offset = a[1]->integer;
        const auto& sizeItems = a[2]->items;
        const auto& strideItems = a[3]->items;
        if (sizeItems.size() != strideItems.size() ||
            static_cast<int>(sizeItems.size()) > limits_.maxTensorDims)
            throw Error("malformed tensor shape in checkpoint");
        std::vector<int64_t> sizes, strides;
        int64_t last = offset;  // highest element index touched
        bool empty = false;
        for (size_t i = 0; i < sizeItems.size(); ++i) {
            int64_t size = sizeItems[i]->toInt("tensor size");
            int64_t stride = strideItems[i]->toInt("tensor stride");
            if (size < 0 || stride < 0 || size > (int64_t(1) << 40) || stride > (int64_t(1) << 40))
                throw Error("tensor with an absurd size or stride in checkpoint");
            int64_t extent = 0;  // overflow-checked: a hostile shape must not wrap around
            if (size == 0)
                empty = true;
            else if (__builtin_mul_overflow(size - 1, stride, &extent) ||
                     __builtin_add_overflow(last, extent, &last))
                throw Error("tensor with an absurd size or stride in checkpoint");
            sizes.push_back(size);
            strides.push_back(stride);
        }
        if (offset < 0 || (!empty && last >= storage.numel()))
            throw Error("tensor larger than its storage in checkpoint (" +
                        std::to_string(last + 1) + " elements needed, " +
                        std::to_string(storage.numel()) + " stored)");
        auto v = make(PyValue::Type::Tensor);
        v->tensor = empty ? at::empty(sizes, storage.options())
                          : storage.as_strided(sizes, strides, offset);
        return v;
    }
    PyRef persistentLoad(const PyValue& pid) {
        // ('storage', <storage type>, key, location, numel)
        if (pid.type != PyValue::Type::Tuple || pid.items.size() < 5 ||
            pid.items[0]->type != PyValue::Type::String || pid.items[0]->text != "storage" ||
            pid.items[1]->type != PyValue::Type::Global ||
            pid.items[2]->type != PyValue::Type::String)
            throw Error("unsupported persistent id in checkpoint");
        const std::string& key = pid.items[2]->text;
        const at::ScalarType dtype = storageDtype(pid.items[1]->text);
        const int64_t numel = pid.items[4]->toInt("storage size");
        if (numel < 0) throw Error("negative storage size in checkpoint");
        auto it = storages_.find(key);
        if (it == storages_.end()) {
            auto v = make(PyValue::Type::Tensor);
            v->tensor = loader_(key, dtype, numel);
            it = storages_.emplace(key, v).first;
        }
        return it->second;
    }

    static double parseFloat(const std::string& s) {
        std::istringstream in(s);
        in.imbue(std::locale::classic());
        double d = 0;
        if (!(in >> d)) throw Error("malformed float in pickle");
        return d;
    }
    static int64_t parseInt(std::string s) {
        if (!s.empty() && s.back() == 'L') s.pop_back();
        try {
            size_t used = 0;
            int64_t v = std::stoll(s, &used);
            if (used != s.size()) throw Error("malformed integer in pickle");
            return v;
        } catch (const std::logic_error&) {
            throw Error("integer too large or malformed in pickle");
        }
    }
    PyRef longValue(uint64_t nbytes) {
        if (nbytes > 8) throw Error("integer too large in pickle");
        uint64_t raw = nbytes ? readLE(static_cast<size_t>(nbytes)) : 0;
        if (nbytes && nbytes < 8 && (raw >> (8 * nbytes - 1)) & 1)
            raw |= ~uint64_t(0) << (8 * nbytes);
        return makeInt(static_cast<int64_t>(raw));
    }

    void step(uint8_t op, size_t opPos) {
        using T = PyValue::Type;
        switch (op) {
            case 0x80:
                take(1);
                break;  // PROTO
            case 0x95:
                take(8);
                break;  // FRAME: framing is only a hint
            case '(':
                marks_.push_back(stack_.size());
                break;
            case '0':
                pop();
                break;
            case '1':
                popMark();
                break;
            case '2':
                push(top());
                break;
            case 'N':
                push(make(T::None));
                break;
            case 0x88:
            case 0x89: {
                auto v = make(T::Bool);
                v->boolean = op == 0x88;
                push(v);
                break;
            }
            case 'J':
                push(makeInt(static_cast<int32_t>(readLE(4))));
                break;
            case 'K':
                push(makeInt(static_cast<int64_t>(readLE(1))));
                break;
            case 'M':
                push(makeInt(static_cast<int64_t>(readLE(2))));
                break;
            case 0x8a:
                push(longValue(readLE(1)));
                break;
            case 0x8b:
                push(longValue(readLE(4)));
                break;
            case 'I': {
                std::string s = readLine();
                if (s == "00" || s == "01") {
                    auto v = make(T::Bool);
                    v->boolean = s == "01";
                    push(v);
                } else {
                    push(makeInt(parseInt(s)));
                }
                break;
            }
            case 'L':
                push(makeInt(parseInt(readLine())));
                break;
            case 'G': {
                uint64_t bits = 0;
                const auto* p = reinterpret_cast<const uint8_t*>(take(8));
                for (int i = 0; i < 8; ++i)
                    bits = (bits << 8) | p[i];
                auto v = make(T::Float);
                std::memcpy(&v->real, &bits, 8);
                push(v);
                break;
            }
            case 'F': {
                auto v = make(T::Float);
                v->real = parseFloat(readLine());
                push(v);
                break;
            }
            case 'X':
                push(makeString(readBytes(readLE(4))));
                break;
            case 0x8c:
                push(makeString(readBytes(readLE(1))));
                break;
            case 0x8d:
                push(makeString(readBytes(readLE(8))));
                break;
            case 'V':
                push(makeString(readLine()));
                break;  // raw-unicode-escape; ASCII in practice
            case 'T':
                push(makeString(readBytes(readLE(4))));
                break;
            case 'U':
                push(makeString(readBytes(readLE(1))));
                break;
            case 'B':
                push(makeString(readBytes(readLE(4)), T::Bytes));
                break;
            case 'C':
                push(makeString(readBytes(readLE(1)), T::Bytes));
                break;
            case 0x8e:
                push(makeString(readBytes(readLE(8)), T::Bytes));
                break;
            case ')':
                push(make(T::Tuple));
                break;
            case ']':
                push(make(T::List));
                break;
            case '}':
                push(make(T::Dict));
                break;
            case 't':
                push(makeSequence(T::Tuple, popMark()));
                break;
            case 'l':
                push(makeSequence(T::List, popMark()));
                break;
            case 0x85:
            case 0x86:
            case 0x87: {
                size_t n = op - 0x84u;
                std::vector<PyRef> items(n);
                for (size_t i = n; i-- > 0;)
                    items[i] = pop();
                push(makeSequence(T::Tuple, std::move(items)));
                break;
            }
            case 'd': {
                auto items = popMark();
                if (items.size() % 2) throw Error("malformed pickle: odd DICT");
                auto v = make(T::Dict);
                for (size_t i = 0; i < items.size(); i += 2)
                    setItem(*v, items[i], items[i + 1]);
                push(v);
                break;
            }
            case 'a': {
                PyRef item = pop();
                append(*top(), std::move(item));
                break;
            }
            case 'e': {
                auto items = popMark();
                PyRef& list = top();
                for (auto& item : items)
                    append(*list, std::move(item));
                break;
            }
            case 's': {
                PyRef value = pop();
                PyRef key = pop();
                setItem(*top(), std::move(key), std::move(value));
                break;
            }
            case 'u': {
                auto items = popMark();
                if (items.size() % 2) throw Error("malformed pickle: odd SETITEMS");
                PyRef& dict = top();
                for (size_t i = 0; i < items.size(); i += 2)
                    setItem(*dict, items[i], items[i + 1]);
                break;
            }
            case 'q':
                memoPut(readLE(1));
                break;
            case 'r':
                memoPut(readLE(4));
                break;
            case 0x94:
                memoPut(memo_.size());
                break;
            case 'p':
                memoPut(static_cast<uint64_t>(parseInt(readLine())));
                break;
            case 'h':
                push(memoGet(readLE(1)));
                break;
            case 'j':
                push(memoGet(readLE(4)));
                break;
            case 'g':
                push(memoGet(static_cast<uint64_t>(parseInt(readLine()))));
                break;
            case 'c': {
                std::string module = readLine();
                std::string name = readLine();
                push(global(module, name));
                break;
            }
            case 0x93: {
                PyRef name = pop();
                PyRef module = pop();
                if (name->type != T::String || module->type != T::String)
                    throw Error("malformed pickle: STACK_GLOBAL needs strings");
                push(global(module->text, name->text));
                break;
            }
            case 'R': {
                PyRef args = pop();
                PyRef callable = pop();
                push(reduce(*callable, *args));
                break;
            }
            case 'Q': {
                PyRef pid = pop();
                push(persistentLoad(*pid));
                break;
            }
            case 'b': {
                // BUILD sets attributes. Only harmless targets are accepted (an OrderedDict's
                // `_metadata`, a tensor's extra state); the state is dropped, nothing is run.
                PyRef state = pop();
                const PyValue& target = *top();
                if (target.type != T::Dict && target.type != T::Tensor)
                    throw Error("refusing to build an object of type " + target.typeName() +
                                " from a checkpoint");
                break;
            }
            case 0x81:
            case 0x92:
            case 'o':
            case 'i':
                throw Error(
                    "refusing to create an object from a checkpoint (pickle opcode "
                    "NEWOBJ/OBJ/INST)");
            default: {
                std::ostringstream msg;
                msg << "unsupported pickle opcode 0x" << std::hex << int(op) << std::dec
                    << " at byte " << opPos;
                throw Error(msg.str());
            }
        }
    }

    const std::string& data_;
    const StorageLoader& loader_;
    PickleLimits limits_;
    size_t pos_ = 0;
    std::vector<PyRef> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, PyRef> memo_;
    std::map<std::string, PyRef> storages_;
    // Bounds the work of the cycle and depth checks on hostile pickles.
    static constexpr size_t kMaxVisits = 50'000'000;
    size_t visits_ = 0;
};

}  // namespace

PyRef unpickle(const std::string& data, const StorageLoader& loadStorage,
               const PickleLimits& limits) {
    return Unpickler(data, loadStorage, limits).run();
}

}  // namespace msplit::engine
