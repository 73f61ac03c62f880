// The appliance's version, as built (CONSULT_VERSION).
#pragma once

namespace consult {

const char* version();

}  // namespace consult
