// Signalling messages through the hub's handlers (hub_harness.hpp): lines of
// "<screen><message>", with screens closing and timers firing in between.
#include "hub_harness.hpp"

#include <gst/gst.h>

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool ready = (gst_init(nullptr, nullptr), true);
    static consult::fuzz::Fixture fixture;
    (void)ready;
    consult::fuzz::HubRun run(fixture);
    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (!input.empty()) {
        const auto end = input.find('\n');
        run.line(input.substr(0, end));
        if (end == std::string_view::npos) break;
        input.remove_prefix(end + 1);
    }
    run.line("t");
    return 0;
}
