#include "appliance/version.hpp"

#ifndef CONSULT_VERSION
#define CONSULT_VERSION "0.0.0-dev"
#endif

namespace consult {
const char* version() { return CONSULT_VERSION; }
}  // namespace consult
