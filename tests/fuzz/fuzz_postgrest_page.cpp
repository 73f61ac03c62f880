// Pages from the clinic cloud through apply_page, for each pulled table (first byte).
#include "appliance/cloud/pull.hpp"
#include "appliance/input/json_input.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace consult;
    if (size == 0) return 0;
    static store::Database templ = [] {
        auto db = store::Database::open(":memory:");
        store::migrate(db);
        store::seed_demo(db, std::chrono::system_clock::now());
        return db;
    }();
    const auto& tables = cloud::pulled_tables();
    const std::string table = tables[data[0] % tables.size()].table;
    auto page = input::parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), {1 << 20, 16});
    if (!page) return 0;
    auto db = store::Database::open(":memory:");
    sqlite3_backup* b = sqlite3_backup_init(db.raw(), "main", templ.raw(), "main");
    sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    try {
        (void)cloud::apply_page(db, table, *page);
    } catch (const store::StoreError&) {
        // A page the store refuses as a whole (a failed transaction) is retried later; not a crash.
    }
    return 0;
}
