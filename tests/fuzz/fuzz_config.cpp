// The configuration file as clinic IT (or anyone with the file) may write it.
#include "appliance/config.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = [] {
        char dir[] = "/tmp/consult-fuzz-config-XXXXXX";
        return std::string(mkdtemp(dir)) + "/consultd.conf";
    }();
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    }
    consult::ConfigSources s;
    s.main = path;
    s.main_required = true;
    (void)consult::load_config(s);
    return 0;
}
