// Short invite links (migration 12): one code per session.
#pragma once

#include "appliance/store/database.hpp"

#include <optional>
#include <string>

namespace consult::store {

class ShortLinkStore {
public:
    explicit ShortLinkStore(Database& db) : db_(db) {}
    std::string code_for(const std::string& session_id);                  // made on first use
    std::optional<std::string> find_code(const std::string& session_id);
    std::optional<std::string> session_for(const std::string& code);

private:
    Database& db_;
};

}  // namespace consult::store
