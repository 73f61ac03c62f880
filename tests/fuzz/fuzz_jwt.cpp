// Tokens as anyone may present them: the JWS parse and check, and the claims' reading.
#include "appliance/tokens/token_service.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const consult::tokens::TokenService service("fuzzing-key");
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    (void)consult::tokens::verify(token, "fuzzing-key", 1'800'000'000);
    (void)service.check(token, 1'800'000'000);
    (void)consult::tokens::base64url_decode(token);
    return 0;
}
