// RAUC as the updater uses it: the `rauc` program (CONSULT_RAUC names another, for tests),
// asked for shell-format output and run without a shell. What it prints is parsed as outside
// input: any text is answered with values or a reason, never thrown.
#pragma once

#include "hwconfig/expected.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace consult::update {

// `--output-format=shell`: KEY='value' lines (g_shell_quote's quoting), and os-release's
// KEY="value". Lines that are not an assignment of an upper-case name are left out.
std::map<std::string, std::string> parse_shell_vars(std::string_view text);

struct SlotStatus {
    std::string name;            // rootfs.0
    std::string bootname;        // a
    std::string state;           // booted, active, inactive
    std::string boot_status;     // good, bad
    std::string bundle_version;  // with --detailed: what was installed into it
};

struct RaucStatus {
    std::string compatible;
    std::string booted_bootname;
    std::string boot_primary;    // the slot the next boot starts (rootfs.1)
    std::vector<SlotStatus> slots;
    const SlotStatus* booted() const;
    const SlotStatus* slot(std::string_view name) const;
};

// `rauc status --detailed --output-format=shell`; a reason when it names no slots.
expected<RaucStatus, std::string> parse_rauc_status(std::string_view text);

struct BundleInfo {
    std::string compatible;
    std::string version;
};

// `rauc info --output-format=shell`.
expected<BundleInfo, std::string> parse_bundle_info(std::string_view text);

// The version this box runs, as bundles name it: IMAGE_VERSION in os-release's text (the
// appliance image's, tools/image/build-image.sh), or `fallback` (consultd's own version, on
// a box that is not the image) when it names none or not a release version.
std::string image_version(std::string_view os_release_text, const std::string& fallback);

// One line for a person out of what RAUC wrote on stderr when it refused: its last line
// that says something, without control characters, at most 300 bytes.
std::string rauc_reason(std::string_view stderr_text);

class Rauc {
public:
    Rauc();                                       // $CONSULT_RAUC, else rauc on PATH
    explicit Rauc(std::string program) : program_(std::move(program)) {}

    expected<RaucStatus, std::string> status() const;
    // Checked as the box checks it: the signature against the keyring of system.conf (a
    // bundle of another signer or a changed one fails here), the manifest read.
    expected<BundleInfo, std::string> info(const std::filesystem::path& bundle) const;
    expected<void, std::string> install(const std::filesystem::path& bundle) const;
    expected<void, std::string> mark_good() const;   // the booted slot

private:
    struct Output {
        int exit_code = -1;
        std::string out, err;
    };
    expected<Output, std::string> run(const std::vector<std::string>& args) const;
    std::string program_;
};

}  // namespace consult::update
