// Twilio's status callbacks: the form parse, the signature check, and reading the
// report from a form or a JSON body.
#include "appliance/twilio/message_status.hpp"
#include "appliance/twilio/signature.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace consult::twilio;
    if (size == 0) return 0;
    const bool form = data[0] & 1;
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    SignedRequest r;
    r.url = "https://box.example/api/webhooks/twilio/message-status?bodySHA256=" + body_sha256_hex(body);
    r.body_is_form = form;
    if (form) r.params = parse_form(body);
    else r.body = body;
    (void)signature_valid("token", r, "c2lnbmF0dXJl");
    (void)read_status_callback(r);
    return 0;
}
