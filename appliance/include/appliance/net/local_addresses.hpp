// The box's own addresses, as ICE would gather them (loopback left out).
#pragma once

#include <string>
#include <vector>

namespace consult::net {

// IPv4 and global IPv6 addresses of the interfaces that are up, loopback excluded.
std::vector<std::string> interface_addresses();

}  // namespace consult::net
