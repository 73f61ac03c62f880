// A session's recording: start and stop (the patient's consent first), its state and
// consent rows, the composed file (short-lived link, HTTP range requests for a
// browser's <video>), deletion on request, and the log of who read it.
#include "appliance/hex.hpp"
#include "appliance/http/auth.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/http/validation.hpp"
#include "appliance/recording/recordings.hpp"
#include "appliance/store/recording_store.hpp"
#include "appliance/store/session_store.hpp"

#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

namespace consult::http {

namespace {

using tokens::Role;
constexpr const char* kBase = "/api/video-consultations/sessions";
constexpr std::int64_t kTicketSeconds = 300;
constexpr std::uint64_t kMaxSlice = 8ull << 20;   // a range answer carries at most this much

// A link to the media that a <video> element can open (it sends no Authorization
// header): a random ticket naming the recording and its reader, valid for minutes.
struct Ticket {
    std::string recording_id, session_id, actor, role, address;
    std::int64_t expires = 0;
    bool logged = false;   // the download is logged once per ticket, not per range
};
struct Tickets {
    std::map<std::string, Ticket> by_id;
    std::string issue(Ticket t) {
        unsigned char raw[24];
        if (RAND_bytes(raw, sizeof raw) != 1) throw ApiError(503, "no_randomness", "try again");
        const std::string id = to_hex(raw);
        const std::int64_t now = tokens::unix_now();
        std::erase_if(by_id, [now](const auto& kv) { return kv.second.expires < now; });
        t.expires = now + kTicketSeconds;
        by_id.emplace(id, std::move(t));
        return id;
    }
};

store::SessionRow load_session(const RecordingDeps& deps, const Request& req) {
    auto s = store::SessionStore(deps.db).find(path_uuid(req, "id"));
    if (!s) throw ApiError(404, "session_not_found", "no such session");
    return *s;
}

nlohmann::json recording_json(const RecordingDeps& deps, const store::SessionRow& s,
                              const std::optional<store::RecordingRow>& row) {
    store::RecordingStore rs(deps.db);
    nlohmann::json consents = nlohmann::json::array();
    for (const auto& c : rs.consents(s.id)) consents.push_back(store::to_json(c));
    nlohmann::json out{{"session_id", s.id}, {"consents", consents}};
    if (!row) {
        out["state"] = "none";
        return out;
    }
    out.update(store::to_json(*row));
    return out;
}

Response post_recording(const RecordingDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = load_session(deps, req);
    require_session_access(deps, c, s, false);
    auto body = req.json_body();
    const auto action = optional_string(body, "action", 10);
    if (!action || (*action != "start" && *action != "stop"))
        throw ApiError(400, "invalid_value", "action must be start or stop", "action");
    const bool on = *action == "start";
    auto result = deps.rooms.set_recording(s.id, on, c.claims.identity, c.address);
    using O = RecordResult::Outcome;
    switch (result.outcome) {
    case O::Recording:
    case O::Stopped: {
        audit(deps, c, on ? "recording.start" : "recording.stop", s.id);
        auto row = store::RecordingStore(deps.db).for_session(s.id);
        auto out = recording_json(deps, s, row);
        out["recording"] = result.outcome == O::Recording;
        return Response::json(200, out);
    }
    case O::Asked:
    case O::Pending:
        throw ApiError(409, "consent_required", result.message);
    case O::TooSoon:
        throw ApiError(409, "consent_required", result.message).with_header("Retry-After", std::to_string(result.retry_after));
    case O::NotInCall: throw ApiError(409, "not_in_call", result.message);
    case O::Disabled: throw ApiError(403, "recording_disabled", result.message);
    case O::NoRoom: throw ApiError(507, "insufficient_storage", result.message);
    case O::Failed: throw ApiError(503, "recording_failed", result.message);
    }
    throw ApiError(500, "internal", "unreachable");
}

Response get_recording(const RecordingDeps& deps, const std::shared_ptr<Tickets>& tickets, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Doctor, Role::Admin});
    auto s = load_session(deps, req);
    require_session_access(deps, c, s, false);
    audit(deps, c, "recording.read", s.id);
    store::RecordingStore rs(deps.db);
    auto row = rs.for_session(s.id);
    if (!row) throw ApiError(404, "recording_not_available", "this session has no recording");
    rs.access(row->id, c.claims.identity, c.role(), "read", c.address);
    auto out = recording_json(deps, s, row);
    out["media_url"] = nullptr;
    if (deps.recordings && deps.recordings->media_path(*row)) {
        const std::string t = tickets->issue({row->id, s.id, c.claims.identity, c.role(), c.address, 0, false});
        out["media_url"] = std::string(kBase) + "/" + s.id + "/recording/media?ticket=" + t;
        out["media_url_expires_in"] = kTicketSeconds;
    }
    return Response::json(200, out);
}

// "bytes=a-b", "bytes=a-", "bytes=-n" over a file of `size` bytes; nothing when unusable.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_range(const std::string& h, std::uint64_t size) {
    if (!h.starts_with("bytes=") || h.find(',') != std::string::npos) return std::nullopt;
    const std::string spec = h.substr(6);
    const auto dash = spec.find('-');
    if (dash == std::string::npos) return std::nullopt;
    auto num = [](std::string_view t, std::uint64_t& v) {
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        return ec == std::errc() && p == t.data() + t.size() && !t.empty();
    };
    std::uint64_t a = 0, b = 0;
    const std::string_view first(spec.data(), dash), last(spec.data() + dash + 1, spec.size() - dash - 1);
    if (first.empty()) {   // the last n bytes
        if (!num(last, b) || b == 0 || size == 0) return std::nullopt;
        return std::make_pair(size - std::min(b, size), size - 1);
    }
    if (!num(first, a) || a >= size) return std::nullopt;
    if (last.empty()) return std::make_pair(a, size - 1);
    if (!num(last, b) || b < a) return std::nullopt;
    return std::make_pair(a, std::min(b, size - 1));
}

Response get_media(const RecordingDeps& deps, const std::shared_ptr<Tickets>& tickets, const Request& req) {
    const std::string session = path_uuid(req, "id");
    auto q = req.query.find("ticket");
    auto t = q == req.query.end() ? tickets->by_id.end() : tickets->by_id.find(q->second);
    if (t == tickets->by_id.end() || t->second.expires < tokens::unix_now() || t->second.session_id != session)
        throw ApiError(401, "ticket_invalid", "this link has expired: open the recording again");
    store::RecordingStore rs(deps.db);
    auto row = rs.find(t->second.recording_id);
    auto path = row && deps.recordings ? deps.recordings->media_path(*row) : std::nullopt;
    if (!path) throw ApiError(404, "recording_not_available", "this recording's media is not here (deleted or not ready)");
    if (!t->second.logged) {
        t->second.logged = true;
        rs.access(row->id, t->second.actor, t->second.role, "download", req.client_address);
    }
    std::error_code ec;
    const std::uint64_t size = std::filesystem::file_size(*path, ec);
    if (ec) throw ApiError(404, "recording_not_available", "the recording's file cannot be read");
    Response r;
    r.content_type = row->container && *row->container == "mp4" ? "video/mp4" : "video/webm";
    r.headers.emplace_back("Accept-Ranges", "bytes");
    r.headers.emplace_back("Content-Disposition", "inline; filename=\"consultation-" + session.substr(0, 8) +
                                                      (r.content_type == "video/mp4" ? ".mp4\"" : ".webm\""));
    auto range_header = req.header("range");
    if (!range_header) {
        r.status = 200;
        r.file = Response::FileSlice{path->string(), 0, size};
        return r;
    }
    auto range = parse_range(*range_header, size);
    if (!range)
        throw ApiError(416, "range_not_satisfiable", "the range is not within the file")
            .with_header("Content-Range", "bytes */" + std::to_string(size));
    const std::uint64_t end = std::min(range->second, range->first + kMaxSlice - 1);
    r.status = 206;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" + std::to_string(end) + "/" +
                                                std::to_string(size));
    r.file = Response::FileSlice{path->string(), range->first, end - range->first + 1};
    return r;
}

Response delete_recording(const RecordingDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    auto s = load_session(deps, req);
    store::RecordingStore rs(deps.db);
    auto row = rs.for_session(s.id);
    if (!row) throw ApiError(404, "recording_not_available", "this session has no recording");
    if (row->state == "recording")
        throw ApiError(409, "recording_running", "stop the recording before deleting it");
    std::optional<std::string> reason;
    if (!req.body.empty()) reason = optional_string(req.json_body(), "reason", 500);
    if (row->state != "deleted") {
        if (!deps.recordings) throw ApiError(503, "recording_unavailable", "recordings are not handled on this box");
        rs.access(row->id, c.claims.identity, c.role(), "delete", c.address);
        deps.recordings->remove(row->id, c.claims.identity, reason.value_or("deleted on request"));
    }
    audit(deps, c, "recording.delete", s.id, {{"reason", reason.value_or("deleted on request")}});
    return Response::json(200, recording_json(deps, s, rs.for_session(s.id)));
}

// The clinic's recordings, newest first, with whose consultation each was (admin:
// the kiosk's Settings lists them to delete one on request).
Response list_recordings(const RecordingDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    nlohmann::json out = nlohmann::json::array();
    store::SessionStore sessions(deps.db);
    for (const auto& r : store::RecordingStore(deps.db).newest(200)) {
        auto j = store::to_json(r);
        auto s = sessions.find(r.session_id);
        store::SessionNames names = s ? sessions.names(*s) : store::SessionNames{};
        j["patient"] = names.patient ? nlohmann::json(*names.patient) : nlohmann::json(nullptr);
        j["doctor"] = names.doctor ? nlohmann::json(*names.doctor) : nlohmann::json(nullptr);
        out.push_back(std::move(j));
    }
    audit(deps, c, "recording.list", std::nullopt);
    return Response::json(200, {{"recordings", out}});
}

Response access_log(const RecordingDeps& deps, const Request& req) {
    Caller c = authenticate(deps, req, {Role::Admin});
    std::optional<std::string> session;
    if (auto q = req.query.find("session_id"); q != req.query.end()) session = q->second;
    std::optional<std::string> recording_id;
    store::RecordingStore rs(deps.db);
    if (session) {
        if (!store::is_uuid(*session)) throw ApiError(400, "invalid_value", "session_id must be a session id", "session_id");
        auto row = rs.for_session(*session);
        if (!row) return Response::json(200, {{"entries", nlohmann::json::array()}});
        recording_id = row->id;
    }
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& a : rs.access_log(recording_id, 500)) entries.push_back(store::to_json(a));
    audit(deps, c, "recording.access_log", session);
    return Response::json(200, {{"entries", entries}});
}

}  // namespace

void add_recording_routes(Router& r, const RecordingDeps& deps) {
    const std::string base = kBase;
    auto tickets = std::make_shared<Tickets>();
    r.add("POST", base + "/{id}/recording", [deps](const Request& q) { return post_recording(deps, q); });
    r.add("GET", base + "/{id}/recording", [deps, tickets](const Request& q) { return get_recording(deps, tickets, q); });
    r.add("DELETE", base + "/{id}/recording", [deps](const Request& q) { return delete_recording(deps, q); });
    r.add("GET", base + "/{id}/recording/media", [deps, tickets](const Request& q) { return get_media(deps, tickets, q); });
    r.add("GET", "/api/recordings", [deps](const Request& q) { return list_recordings(deps, q); });
    r.add("GET", "/api/recordings/access-log", [deps](const Request& q) { return access_log(deps, q); });
}

}  // namespace consult::http
