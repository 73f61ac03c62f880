// Whether patients' phones, outside the clinic's network, can use the address the
// appliance puts in their links ([http] public_base_url): a loopback, private,
// link-local or single-label host they cannot reach, and plain http on which their
// browsers refuse the camera, are said in plain words.
#pragma once

#include <optional>
#include <string>

namespace consult::net {

// What is wrong with `url` for patients, or nothing.
std::optional<std::string> public_url_warning(const std::string& url);

}  // namespace consult::net
