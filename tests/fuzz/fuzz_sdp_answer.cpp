// A browser's answer (anything at all) checked against one of the room's real offers.
#include "pipelines/sdp_check.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string offer = [] {
        std::ifstream in(CONSULT_FUZZ_DIR "/room_offer.sdp");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }();
    (void)consult::media::check_answer(offer, std::string(reinterpret_cast<const char*>(data), size));
    return 0;
}
