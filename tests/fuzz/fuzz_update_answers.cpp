// What the updater and the boot assessment read from outside consultd's own code (first byte
// picks): the clinic cloud's release offer, a /healthz and a /kiosk answer judged by the boot
// check, an [update] window from a config file, what the rauc program printed, and the
// updater's state file. None may crash, hang or throw.
#include "appliance/update/boot_check.hpp"
#include "appliance/update/rauc.hpp"
#include "appliance/update/release.hpp"
#include "appliance/update/state.hpp"
#include "appliance/update/window.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace consult;
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 8) {
    case 0: {
        net::HttpResponse r;
        r.status = 200;
        r.body = text;
        (void)update::parse_release_reply(r);
        break;
    }
    case 1:
        (void)update::health_problem(200, text, {"1.0.0", 14});
        break;
    case 2:
        (void)update::kiosk_problem(200, "text/html", text);
        break;
    case 4:
        (void)update::parse_rauc_status(text);
        break;
    case 5:
        (void)update::parse_bundle_info(text);
        (void)update::rauc_reason(text);
        break;
    case 6: {
        const auto j = nlohmann::json::parse(text, nullptr, false);
        if (auto s = update::state_from_json(j)) {
            (void)update::settle_pending(*s, "1.0.0", "boot", "now");
            (void)update::to_json(*s).dump();
        }
        break;
    }
    default:
        if (auto w = update::parse_window(text)) {
            for (int minute : {0, 359, 720, 1439}) {
                (void)update::inside(*w, minute);
                (void)update::until_open(*w, minute);
            }
        }
        break;
    }
    return 0;
}
