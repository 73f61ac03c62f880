// Numbered schema migrations, applied at start, each in one transaction. The
// schema version is SQLite's user_version.
#pragma once

#include "appliance/store/database.hpp"

#include <span>
#include <vector>

namespace consult::store {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

std::span<const Migration> migrations();
int latest_schema_version();

// Migrations not yet applied to this database (throws when the database is newer
// than this build knows: a downgrade would lose data).
std::vector<const Migration*> pending_migrations(Database& db);

// Applies pending migrations up to `target` (default: all). Returns how many ran.
int migrate(Database& db, int target = -1);

}  // namespace consult::store
