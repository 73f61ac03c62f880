// The box's side of `consultctl update` on the host: a folder for the stand-in of the rauc
// program (tests/standins/fake_rauc.sh) answering for a box booted from slot A with both
// slots good, a boot id file, and a restart command that only writes "restart" into
// RAUC's log. env() is what consultctl needs to use them (update/ctl_update.hpp).
#pragma once

#include "consultd_process.hpp"

#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

namespace consult::test {

inline constexpr const char* kFakeRaucFamily = "consult-appliance-x86_64";

// The first lines of a bundle as the stand-in reads them.
inline std::string fake_bundle_head(const std::string& version, const std::string& family = kFakeRaucFamily) {
    return "compatible=" + family + "\nversion=" + version + "\n";
}

class FakeRauc {
public:
    // rauc status --detailed --output-format=shell of a box booted from slot A, both slots good.
    static inline const std::string kStatus =
        "RAUC_SYSTEM_COMPATIBLE='consult-appliance-x86_64'\nRAUC_SYSTEM_VARIANT=''\n"
        "RAUC_SYSTEM_BOOTED_BOOTNAME='a'\nRAUC_BOOT_PRIMARY='rootfs.0'\n"
        "RAUC_SYSTEM_SLOTS='rootfs.0 rootfs.1'\nRAUC_SLOTS='1 2'\n"
        "RAUC_SLOT_STATE_1='booted'\nRAUC_SLOT_CLASS_1='rootfs'\nRAUC_SLOT_BOOTNAME_1='a'\nRAUC_SLOT_BOOT_STATUS_1='good'\n"
        "RAUC_SLOT_STATUS_BUNDLE_VERSION_1=''\n"
        "RAUC_SLOT_STATE_2='inactive'\nRAUC_SLOT_CLASS_2='rootfs'\nRAUC_SLOT_BOOTNAME_2='b'\nRAUC_SLOT_BOOT_STATUS_2='good'\n"
        "RAUC_SLOT_STATUS_BUNDLE_VERSION_2='0.0.9'\n";

    explicit FakeRauc(const fs::path& dir) : dir_(dir / "rauc"), boot_id_(dir / "boot_id"), reboot_(dir / "reboot.sh") {
        fs::create_directories(dir_);
        write_file(dir_ / "status", kStatus);
        write_file(dir_ / "log", "");
        write_file(boot_id_, "boot-1\n");
        write_file(reboot_, "#!/bin/sh\necho restart >>'" + (dir_ / "log").string() + "'\n");
        ::chmod(reboot_.c_str(), 0755);
    }

    const fs::path& dir() const { return dir_; }
    const fs::path& boot_id() const { return boot_id_; }
    std::string log() const { return read_file(dir_ / "log"); }

    // consultctl's environment: the stand-in, the restart, the boot id, and no image (consultd's version runs).
    std::vector<std::pair<std::string, std::string>> env() const {
        return {{"CONSULT_RAUC", source_dir() + "/tests/standins/fake_rauc.sh"},
                {"FAKE_RAUC_DIR", dir_.string()},
                {"CONSULT_REBOOT_COMMAND", reboot_.string()},
                {"CONSULT_BOOT_ID_FILE", boot_id_.string()},
                {"CONSULT_OS_RELEASE", "/dev/null"}};
    }

private:
    fs::path dir_, boot_id_, reboot_;
};

}  // namespace consult::test
