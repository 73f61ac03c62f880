// Supabase Storage (/storage/v1) request and response forms, as plain functions: the
// resumable (TUS 1.0.0) upload of an object — create, ask the offset, send a chunk —
// the object's info and its download for verification, its deletion, and the errors it
// answers with.
// No I/O here; cloud/recording_uploader.hpp drives these through the HTTP client.
//
// Errors come in two shapes: the API's JSON {"statusCode": "403", "code", "error",
// "message"} (usually with HTTP 400, the real status in statusCode) and the TUS server's
// plain-text body with the real HTTP status (409 exists or offset conflict, 413 too
// large, 404/410 upload gone). The gateway answers 401 {"message"} for a bad apikey.
#pragma once

#include "appliance/net/http_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace consult::cloud::storage {

// Supabase wants every chunk but the last to be exactly 6 MiB.
inline constexpr std::uint64_t kChunkBytes = 6u << 20;

struct Endpoint {
    std::string base_url;       // ".../storage/v1"
    std::string api_key;        // `apikey`
    std::string device_token;   // `Authorization: Bearer`
    std::chrono::milliseconds timeout{30000};
};

// [cloud] url (the project, with or without /rest/v1) → ".../storage/v1".
std::string storage_url(const std::string& cloud_url);

struct NewUpload {
    std::string bucket, object;     // object: "a/b/c.mp4", no leading slash
    std::uint64_t size = 0;
    std::string content_type;
    nlohmann::json metadata = nlohmann::json::object();   // kept with the object (its user metadata)
    bool upsert = false;            // replace an object already at that path
};

// POST <base>/upload/resumable with Upload-Length and Upload-Metadata; 201 + Location.
net::HttpRequest create_request(const Endpoint& e, const NewUpload& u);
// HEAD <upload url>: Upload-Offset says how much the server has.
net::HttpRequest offset_request(const Endpoint& e, const std::string& upload_url);
// PATCH <upload url> with bytes [offset, offset + length) of `file`; 204 + Upload-Offset.
net::HttpRequest chunk_request(const Endpoint& e, const std::string& upload_url, const std::string& file,
                               std::uint64_t offset, std::uint64_t length);
// GET <base>/object/info/authenticated/<bucket>/<object>: {size, metadata, ...}.
net::HttpRequest info_request(const Endpoint& e, const std::string& bucket, const std::string& object);
// GET <base>/object/authenticated/<bucket>/<object>, hashed as it comes (not kept).
net::HttpRequest download_request(const Endpoint& e, const std::string& bucket, const std::string& object);
// DELETE <base>/object/<bucket>/<object>: 200 {"message": "Successfully deleted"}, or
// 400 {"statusCode": "404", "code": "NoSuchKey"} — which the storage also answers when its
// policies let the device see the object but not delete it. (The bulk DELETE
// <base>/object/<bucket> {"prefixes"} answers 200 with what it deleted, an empty list
// alike for "not there" and "refused"; one object at a time says more.)
net::HttpRequest delete_request(const Endpoint& e, const std::string& bucket, const std::string& object);

// "Upload-Metadata": comma-separated "key base64(value)".
std::string upload_metadata(const NewUpload& u);
// An upload URL from Location, accepted only under <base>/upload/resumable/ (the
// credentials go nowhere else); nothing otherwise.
std::optional<std::string> upload_url(const Endpoint& e, const net::HttpResponse& created);
std::optional<std::uint64_t> upload_offset(const net::HttpResponse& r);

struct Error {
    long http = 0;          // the HTTP status (0: no answer)
    long status = 0;        // what it means: statusCode from the body when there is one, else http
    std::string code, message;
    bool from_api = false;          // the storage API's own JSON (with statusCode), not the gateway's
    std::string summary() const;   // "HTTP 400 (403 AccessDenied): invalid signature"
};
Error parse_error(const net::HttpResponse& r);
// The storage API itself says the object (or its bucket) is not there; a 404 from the
// gateway (a wrong URL) is not that.
bool object_absent(const net::HttpResponse& r);

enum class Outcome {
    Done,           // 2xx
    Retry,          // no answer, 408, 423, 429, 5xx: try again later
    Unauthorized,   // 401 / 403: credentials refused or not this clinic's folder
    Exists,         // 409: the object is there already (create) or the offset moved (chunk)
    Gone,           // 404 / 410: the upload (or the bucket) is not there
    TooLarge,       // 413: over the bucket's or project's limit
    Rejected,       // another 4xx
};
Outcome classify(const net::HttpResponse& r);

}  // namespace consult::cloud::storage
