#include "appliance/hw_report.hpp"

namespace consult {

hw::ProbeSettings probe_settings(const Config::Media& m) {
    return {m.camera, m.content_camera, m.microphone, m.speaker, m.encoder, m.max_width, m.max_height, m.max_fps};
}

nlohmann::json source_to_json(const hw::SourceChoice& s) {
    nlohmann::json j{{"name", s.name}, {"test_source", s.test_source}, {"reason", s.reason}};
    if (!s.path.empty()) j["path"] = s.path;
    if (s.mode) j["mode"] = {{"media", s.mode->media}, {"width", s.mode->width},
                             {"height", s.mode->height}, {"fps", s.mode->fps}};
    return j;
}

nlohmann::json probe_to_json(const hw::ProbeResult& r) {
    nlohmann::json j;
    auto devices = [](const std::vector<hw::Device>& list) {
        auto a = nlohmann::json::array();
        for (const auto& d : list) a.push_back({{"name", d.name}, {"path", d.path}, {"modes", d.modes.size()}});
        return a;
    };
    j["devices"] = {{"cameras", devices(r.cameras)}, {"microphones", devices(r.microphones)},
                    {"speakers", devices(r.speakers)}};
    j["camera"] = source_to_json(r.camera);
    j["content_camera"] = source_to_json(r.content);
    j["microphone"] = source_to_json(r.microphone);
    j["speaker"] = source_to_json(r.speaker);
    j["encoders"] = nlohmann::json::array();
    for (const auto& e : r.encoders)
        j["encoders"].push_back({{"factory", e.row->factory}, {"codec", hw::codec_name(e.row->codec)},
                                 {"hardware", e.row->hardware}, {"usable", e.usable}, {"reason", e.reason},
                                 {"quirks", e.row->quirks}});
    j["encoder"] = r.encoder ? nlohmann::json(r.encoder->factory) : nlohmann::json(nullptr);
    j["decoders"] = nlohmann::json::array();
    for (const auto& d : r.decoders)
        j["decoders"].push_back({{"factory", d.row->factory}, {"codec", hw::codec_name(d.row->codec)},
                                 {"hardware", d.row->hardware}});
    j["missing_plugins"] = nlohmann::json::array();
    for (const auto& m : r.missing) j["missing_plugins"].push_back({{"element", m.element}, {"package", m.package}});
    j["probe_ms"] = r.elapsed_ms;
    return j;
}

std::string probe_to_text(const hw::ProbeResult& r) {
    std::string o;
    auto source = [&](const char* what, const hw::SourceChoice& s) {
        o += std::string(what) + ": " + s.name + (s.test_source && s.name != "none" ? " (test source)" : "");
        if (s.mode) o += " " + s.mode->media + " " + std::to_string(s.mode->width) + "x" +
                         std::to_string(s.mode->height) + "@" + std::to_string(s.mode->fps);
        o += " — " + s.reason + "\n";
    };
    source("camera", r.camera);
    source("content camera", r.content);
    source("microphone", r.microphone);
    source("speaker", r.speaker);
    o += "encoders (best first):\n";
    for (const auto& e : r.encoders)
        o += "  " + std::string(e.usable ? "ok   " : "FAIL ") + std::string(e.row->factory) +
             (e.row->hardware ? " [hardware] " : " [software] ") + e.reason + "\n";
    o += "chosen encoder: " + (r.encoder ? std::string(r.encoder->factory) : std::string("none")) + "\n";
    o += "decoders:";
    for (const auto& d : r.decoders) o += " " + std::string(d.row->factory);
    o += "\n";
    for (const auto& m : r.missing)
        o += "missing element " + m.element + ": apt-get install " + m.package + "\n";
    return o;
}

}  // namespace consult
