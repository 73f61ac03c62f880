// One object deleted from the clinic's storage, and made sure of: DELETE it, and believe
// a "not found" only when the object's info says so too — the storage answers 404 as
// well when its policies let the device see an object but not delete it. Requests go
// through the caller's HTTP client (off the main loop); the result comes back once, on
// the main loop. Retrying is the caller's (cloud/recording_uploader.hpp).
#pragma once

#include "appliance/cloud/storage_api.hpp"
#include "appliance/net/http_client.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace consult::cloud {

class ObjectDeletion {
public:
    struct Result {
        bool gone = false;                   // the storage no longer has the object
        std::string why;                     // otherwise: what it answered
        std::chrono::seconds at_least{0};    // and the least wait before asking again
    };

    ObjectDeletion(net::HttpClient& http, storage::Endpoint endpoint, std::string bucket, std::string object,
                   std::function<void(Result)> done);
    ~ObjectDeletion() { *alive_ = false; }
    ObjectDeletion(const ObjectDeletion&) = delete;
    ObjectDeletion& operator=(const ObjectDeletion&) = delete;

    void start();

private:
    void on_deleted(const net::HttpResponse& r);
    void on_info(const net::HttpResponse& r);
    void send(net::HttpRequest request, void (ObjectDeletion::*then)(const net::HttpResponse&));
    void refused(const std::string& step, const net::HttpResponse& r);
    void finish(Result result);   // last: `done` may destroy this object

    net::HttpClient& http_;
    storage::Endpoint endpoint_;
    std::string bucket_, object_;
    std::function<void(Result)> done_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::cloud
