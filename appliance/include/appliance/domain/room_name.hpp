#pragma once

#include <string>

namespace consult::domain {

// 192 random bits, base64url: unguessable, URL-safe, 32 characters.
std::string new_room_name();

}  // namespace consult::domain
