// One signalling text frame through the typed message parser.
#include "appliance/signalling/messages.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = consult::signalling::msg::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    if (m) (void)consult::signalling::msg::type_name(*m);
    return 0;
}
