// Email through an SMTP server with libcurl (smtp:// with STARTTLS, or smtps://),
// on a worker thread of its own; results come back on the main context that made it.
#pragma once

#include <glib.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

namespace consult::notify {

struct SmtpSettings {
    std::string url;               // smtp://host:587 or smtps://host:465; user may be in the URL
    std::string from;              // envelope and From: address
    std::string username;          // default: the URL's user, else `from`
    std::string password;          // empty: no AUTH
    std::chrono::milliseconds timeout{30000};
};

struct Email {
    std::string to;
    std::string subject;
    std::string body;              // plain text, UTF-8
};

struct SmtpResult {
    bool ok = false;
    std::string error;             // curl's reason when !ok (never the address)
};

// The RFC 5322 message (CRLF lines, UTF-8 subject encoded per RFC 2047).
std::string format_email(const Email& e, const std::string& from, std::time_t date, const std::string& message_id);

class SmtpSender {
public:
    explicit SmtpSender(SmtpSettings settings, GMainContext* deliver_on = nullptr);
    ~SmtpSender();   // waits for the email being sent, drops the rest; their callbacks never run
    SmtpSender(const SmtpSender&) = delete;
    SmtpSender& operator=(const SmtpSender&) = delete;

    void send(Email email, std::function<void(SmtpResult)> done);
    static SmtpResult send_blocking(const SmtpSettings& settings, const Email& email);

    struct Worker;

private:
    std::shared_ptr<Worker> worker_;
};

}  // namespace consult::notify
