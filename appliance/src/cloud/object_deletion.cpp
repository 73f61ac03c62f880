#include "appliance/cloud/object_deletion.hpp"

namespace consult::cloud {

namespace ch = std::chrono;

ObjectDeletion::ObjectDeletion(net::HttpClient& http, storage::Endpoint endpoint, std::string bucket, std::string object,
                               std::function<void(Result)> done)
    : http_(http), endpoint_(std::move(endpoint)), bucket_(std::move(bucket)), object_(std::move(object)),
      done_(std::move(done)) {}

void ObjectDeletion::start() {
    send(storage::delete_request(endpoint_, bucket_, object_), &ObjectDeletion::on_deleted);
}

void ObjectDeletion::send(net::HttpRequest request, void (ObjectDeletion::*then)(const net::HttpResponse&)) {
    http_.send(std::move(request), [this, alive = std::weak_ptr<bool>(alive_), then](net::HttpResponse r) {
        auto a = alive.lock();
        if (a && *a) (this->*then)(r);
    });
}

void ObjectDeletion::on_deleted(const net::HttpResponse& r) {
    if (storage::classify(r) == storage::Outcome::Done) return finish({true, "", {}});
    // Not there, or there and not ours to delete: the info tells which.
    if (storage::object_absent(r))
        return send(storage::info_request(endpoint_, bucket_, object_), &ObjectDeletion::on_info);
    refused("deleting the object", r);
}

void ObjectDeletion::on_info(const net::HttpResponse& r) {
    if (storage::object_absent(r)) return finish({true, "", {}});
    if (storage::classify(r) == storage::Outcome::Done)   // a person must grant the delete (cloud migration 0003)
        return finish({false, "the storage keeps the object and answers \"not found\" to its deletion: "
                              "its policies do not let this device delete it", ch::hours(6)});
    refused("reading the object's info after its deletion", r);
}

void ObjectDeletion::refused(const std::string& step, const net::HttpResponse& r) {
    const std::string why = step + ": " + storage::parse_error(r).summary();
    switch (storage::classify(r)) {
    case storage::Outcome::Retry:
        return finish({false, why, {}});
    case storage::Outcome::Unauthorized:   // re-pairing, or the bucket's policies: not soon
        return finish({false, why, ch::minutes(15)});
    default:                               // refused as asked: asking often changes nothing
        return finish({false, why, ch::hours(6)});
    }
}

void ObjectDeletion::finish(Result result) {
    auto done = std::move(done_);
    done(std::move(result));
}

}  // namespace consult::cloud
