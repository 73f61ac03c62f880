// What the updater and the boot assessment read from outside consultd's own code (first byte
// picks): the clinic cloud's release offer, a /healthz and a /kiosk answer judged by the boot
// check, and an [update] window from a config file. None may crash, hang or throw.
#include "appliance/update/boot_check.hpp"
#include "appliance/update/release.hpp"
#include "appliance/update/window.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace consult;
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 4) {
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
