#include "appliance/domain/room_name.hpp"

#include "appliance/tokens/jwt.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace consult::domain {

std::string new_room_name() {
    unsigned char bytes[24];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a room name");
    return tokens::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

}  // namespace consult::domain
