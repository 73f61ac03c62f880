#include "appliance/http/audit_scope.hpp"

#include <utility>

namespace consult::http {

namespace {
thread_local std::shared_ptr<AuditScope> current_scope;
}

std::shared_ptr<AuditScope> AuditScope::current() { return current_scope; }

void AuditScope::settled(bool committed) {
    failed_ |= !committed;
    if (--outstanding_ > 0 || !then_) return;
    auto f = std::move(then_);
    then_ = nullptr;
    f(!failed_);
}

void AuditScope::when_settled(std::function<void(bool)> f) {
    if (outstanding_ == 0) f(!failed_);
    else then_ = std::move(f);
}

AuditScope::Open::Open(std::shared_ptr<AuditScope> scope) : previous_(std::exchange(current_scope, std::move(scope))) {}
AuditScope::Open::~Open() { current_scope = std::move(previous_); }

}  // namespace consult::http
