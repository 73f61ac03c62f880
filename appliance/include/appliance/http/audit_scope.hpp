// The audit rows one request has queued (store/audit_batch.hpp), which its answer
// waits for: the server opens a scope around each handler, http::audit() adds to it,
// and the answer goes out once every row is committed (or a 503 when one was not).
#pragma once

#include <functional>
#include <memory>

namespace consult::http {

class AuditScope : public std::enable_shared_from_this<AuditScope> {
public:
    // The scope of the request being handled on this thread, if any.
    static std::shared_ptr<AuditScope> current();

    void expect() { ++outstanding_; }
    void settled(bool committed);
    bool pending() const { return outstanding_ > 0; }
    // Runs `f(all_committed)` once nothing is outstanding (at once if nothing is).
    void when_settled(std::function<void(bool)> f);

    // Makes `scope` current for the lifetime of this object.
    class Open {
    public:
        explicit Open(std::shared_ptr<AuditScope> scope);
        ~Open();
        Open(const Open&) = delete;
        Open& operator=(const Open&) = delete;

    private:
        std::shared_ptr<AuditScope> previous_;
    };

private:
    int outstanding_ = 0;
    bool failed_ = false;
    std::function<void(bool)> then_;
};

}  // namespace consult::http
