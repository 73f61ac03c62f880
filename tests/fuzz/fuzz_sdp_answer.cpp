// A browser's answer (anything at all) checked against the room's real offers (the
// H.264-only one and the one with VP8 beside it); what passes is also rewritten the way
// the media engine gets it, and what of that checks again keeps the same sections.
#include "pipelines/sdp_check.hpp"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {
std::string read(const char* path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string offers[] = {read(CONSULT_FUZZ_DIR "/room_offer.sdp"),
                                         read(CONSULT_FUZZ_DIR "/room_offer_fallback.sdp")};
    const std::string answer(reinterpret_cast<const char*>(data), size);
    for (const std::string& offer : offers) {
        auto shape = consult::media::check_answer(offer, answer);
        if (!shape) continue;
        const std::string given = consult::media::normalised_answer(answer, *shape);
        // What does not check again is refused by the peer; what does must keep its shape.
        auto again = consult::media::check_answer(offer, given);
        if (!again) continue;
        if (again->sections.size() != shape->sections.size()) std::abort();
        for (std::size_t i = 0; i < shape->sections.size(); ++i)
            if (again->sections[i].accepted != shape->sections[i].accepted) std::abort();
    }
    return 0;
}
