// A store that an update migrated, opened again by the version it updated from.
//
// A release may add migrations; if it then fails its boot check, the box comes back on
// the slot it came from, whose consultd does not know the newer schema. Two steps keep
// that from stranding the box or losing what was acknowledged meanwhile:
//
//  - before this build migrates the store, it keeps a copy of it as it was
//    (`<state>/db-snapshots/schema-<N>.sqlite`, a consistent VACUUM INTO copy);
//  - when this build finds a store whose schema is newer than it knows, it keeps that
//    store aside whole (`consult.db.schema-<M>-<time>`), starts again from the copy taken
//    before the migration (or, without one, from an empty store of its own schema), and
//    re-applies every row of the newer store into the tables and columns it knows. Rows
//    written while the newer version ran (sessions, notes, outbox rows not yet pushed)
//    are therefore still here, and the outbox still pushes them; columns and tables only
//    the newer version knows stay in the kept file. Triggers do not fire while rows are
//    re-applied (nothing is queued twice, no patient is told twice).
#pragma once

#include "appliance/store/database.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace consult::store {

// Where the copies taken before migrations live, beside the store.
std::filesystem::path snapshot_dir(const std::filesystem::path& state_dir);

// Before `db` is migrated past its current schema: copies it to
// `<dir>/schema-<current>.sqlite` (replacing an older copy of that schema) and keeps
// the three newest copies. Returns the copy, or nothing when there is nothing to keep
// (a new, empty store). Throws StoreError when the copy cannot be written.
std::optional<std::filesystem::path> snapshot_before_migrating(Database& db, const std::filesystem::path& dir);

struct Downgrade {
    int from_schema = 0;                      // the newer store's
    int to_schema = 0;                        // this build's
    std::filesystem::path kept;               // the newer store, kept whole
    std::filesystem::path snapshot;           // the copy started from (empty: an empty store)
    std::vector<std::string> reapplied;       // tables whose rows came from the newer store
    std::vector<std::string> kept_as_copied;  // "table: why" where the copy's rows stayed
    std::vector<std::string> left_behind;     // tables only the newer store has
    std::string summary() const;
};

// If the store at `db_path` has a schema newer than this build knows, replaces it as
// described above and says what was done; otherwise nothing. No connection to the
// store may be open. Throws StoreError when it cannot (the store is then untouched).
std::optional<Downgrade> downgrade_if_newer(const std::filesystem::path& db_path, const std::filesystem::path& dir);

}  // namespace consult::store
