#include "guarded_stream.hpp"

#include "appliance/net/filter_stream.hpp"

#include <utility>

namespace consult::http {

namespace {

class Guard : public net::ReadFilter {
public:
    explicit Guard(std::shared_ptr<StreamWatch> watch) : watch_(std::move(watch)) {}

    // The end of the stream with nothing read since the last answer: one byte first
    // (see the header).
    gssize filter(void* buffer, gsize count, gssize n, GError**) override {
        if (n > 0) {
            watch_->bytes_in += std::uint64_t(n);
            watch_->at_boundary = false;
            return n;
        }
        if (n == 0 && count > 0 && watch_->at_boundary && !fake_sent_) {
            fake_sent_ = true;
            static_cast<char*>(buffer)[0] = '\x7f';
            return 1;
        }
        return n;
    }
    void closed() override {
        if (auto f = std::exchange(watch_->closed, nullptr)) f();
    }

private:
    std::shared_ptr<StreamWatch> watch_;
    bool fake_sent_ = false;
};

}  // namespace

GIOStream* guarded_stream_new(GIOStream* base, std::shared_ptr<StreamWatch> watch) {
    return net::filter_stream_new(base, std::make_unique<Guard>(std::move(watch)));
}

}  // namespace consult::http
