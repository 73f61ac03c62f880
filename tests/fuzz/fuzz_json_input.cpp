// JSON from outside: the bounded parse, then typed reads of whatever fields it has.
#include "appliance/input/json_input.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace consult::input;
    auto j = parse(std::string_view(reinterpret_cast<const char*>(data), size), {1 << 20, 32});
    if (!j) return 0;
    (void)dump(*j);
    try {
        Fields f(*j);
        for (const char* name : {"a", "b", "text", "n", "ErrorCode"}) {
            try { (void)f.optional_string(name, 100); } catch (const FieldError&) {}
            try { (void)f.optional_int(name, -5, 5); } catch (const FieldError&) {}
            try { (void)f.optional_bool(name); } catch (const FieldError&) {}
            try { (void)f.optional_number(name, -1e9, 1e9); } catch (const FieldError&) {}
            try { (void)f.optional_scalar_text(name, 16); } catch (const FieldError&) {}
            try { (void)f.optional_object(name); } catch (const FieldError&) {}
            try { (void)f.optional_array(name); } catch (const FieldError&) {}
        }
    } catch (const FieldError&) {
    }
    return 0;
}
