#include "core/engine/tools/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace msplit::engine {
namespace {

namespace prof = torch::autograd::profiler;

struct Row {
    long calls = 0;
    double ownUs = 0, totalUs = 0;
};

std::string shapesText(const std::vector<std::vector<int64_t>>& shapes) {
    std::ostringstream s;
    for (size_t i = 0; i < shapes.size(); ++i) {
        if (i) s << ' ';
        s << '[';
        for (size_t j = 0; j < shapes[i].size(); ++j)
            s << (j ? "," : "") << shapes[i][j];
        s << ']';
    }
    return s.str();
}

// Push and pop events nest per thread: own time is a range's time less its children's.
std::map<std::string, Row> summarise(const prof::thread_event_lists& lists) {
    std::map<std::string, Row> rows;
    for (const auto& events : lists) {
        struct Open {
            const prof::LegacyEvent* push;
            std::string key;
            double childUs = 0;
        };
        std::vector<Open> stack;
        for (const auto& e : events) {
            if (e.kind() == prof::EventKind::PushRange) {
                stack.push_back({&e, std::string(e.name()) + '\t' + shapesText(e.shapes())});
            } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
                Open open = std::move(stack.back());
                stack.pop_back();
                const double us = open.push->cpuElapsedUs(e);
                Row& r = rows[open.key];
                ++r.calls;
                r.totalUs += us;
                r.ownUs += us - open.childUs;
                if (!stack.empty()) stack.back().childUs += us;
            }
        }
    }
    return rows;
}

}  // namespace

struct OpProfile::Guard {
    prof::thread_event_lists events;
    std::optional<prof::TLSLegacyProfilerGuard> profiler;
};

OpProfile::OpProfile(std::string tablePath, int top)
    : tablePath_(std::move(tablePath)), top_(top), guard_(std::make_unique<Guard>()) {
    Guard* g = guard_.get();
    g->profiler.emplace(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU,
                                              /*report_input_shapes=*/true),
        [g](const prof::thread_event_lists& lists) { g->events = lists; });
}

OpProfile::~OpProfile() {
    guard_->profiler.reset();  // stops the profiler and hands over the events
    const auto rows = summarise(guard_->events);
    std::vector<std::pair<std::string, Row>> sorted(rows.begin(), rows.end());
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.second.ownUs > b.second.ownUs; });
    double total = 0;
    for (const auto& [key, r] : sorted)
        total += r.ownUs;
    std::ofstream table(tablePath_);
    table << "operator\tinput shapes\tcalls\town ms\ttotal ms\n";
    for (const auto& [key, r] : sorted)
        table << key << '\t' << r.calls << '\t' << r.ownUs / 1e3 << '\t' << r.totalUs / 1e3 << '\n';
    if (!table) std::cerr << "cannot write " << tablePath_ << "\n";
    std::printf("own time %.3f s; by operator and input shapes:\n", total / 1e6);
    for (int i = 0; i < top_ && i < int(sorted.size()); ++i) {
        const auto& [key, r] = sorted[size_t(i)];
        std::string name = key.substr(0, key.find('\t')), shapes = key.substr(key.find('\t') + 1);
        std::printf("%5.1f%% %8.1f ms %5ld x  %-28s %s\n", 100 * r.ownUs / std::max(total, 1.0),
                    r.ownUs / 1e3, r.calls, name.c_str(), shapes.c_str());
    }
}

}  // namespace msplit::engine
