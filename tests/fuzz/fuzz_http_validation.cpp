// Request bodies and query strings through the REST validators.
#include "appliance/http/types.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/input/json_input.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace consult::http;
    Request req;
    req.headers["content-type"] = "application/json";
    req.body.assign(reinterpret_cast<const char*>(data), size);
    req.query["date"] = req.body.substr(0, 16);
    req.query["doctor_id"] = req.body.substr(0, 40);
    req.query["status"] = req.body.substr(0, 12);
    req.params["id"] = req.body.substr(0, 36);
    auto attempt = [](auto&& f) {
        try {
            f();
        } catch (const ApiError&) {
        } catch (const consult::input::FieldError&) {
        }
    };
    attempt([&] { (void)path_uuid(req, "id"); });
    attempt([&] { (void)query_uuid(req, "doctor_id"); });
    attempt([&] { (void)query_date(req, "date"); });
    attempt([&] { (void)query_enum(req, "status", {"scheduled", "waiting"}); });
    attempt([&] {
        auto body = req.json_body();
        attempt([&] { (void)require_string(body, "reason", 500); });
        attempt([&] { (void)require_uuid(body, "appointment_id"); });
        attempt([&] { (void)require_int(body, "duration_minutes", 5, 240); });
        attempt([&] { (void)optional_bool(body, "is_active", true); });
        attempt([&] { (void)require_enum(body, "channel", {"sms", "email"}); });
    });
    return 0;
}
