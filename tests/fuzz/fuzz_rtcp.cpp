// RTCP compound packets as a remote peer may send them: the report blocks read out.
#include "pipelines/congestion.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)consult::media::report_blocks({data, size});
    return 0;
}
