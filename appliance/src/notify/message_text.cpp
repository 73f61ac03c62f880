#include "appliance/notify/message_text.hpp"

namespace consult::notify {

std::string format_when(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%H:%M on %a %d %b", &tm);
    return buf;
}

std::string sms_text(Purpose purpose, const MessageFacts& f) {
    const std::string when = format_when(f.starts_at);
    const std::string call = f.clinic_phone.empty() ? "contact the clinic" : "call " + f.clinic_phone;
    switch (purpose) {
    case Purpose::Invite:
        return f.clinic_name + ": your video consultation is at " + when + ". Join here: " + f.link;
    case Purpose::Update:
        return f.clinic_name + ": your video consultation has moved to " + when + ". Join here: " + f.link;
    case Purpose::Cancellation:
        return f.clinic_name + ": your video consultation at " + when + " is cancelled. To book again, " + call + ".";
    case Purpose::VisitSummary:   // the text itself only behind the invite's code
        return f.clinic_name + ": the summary of your video consultation of " + when + " is ready: " + f.link +
               " (you will be asked for the code from your invite).";
    case Purpose::Reminder:
        return f.clinic_name + ": reminder, your video consultation starts at " + when + ". Join here: " + f.link;
    case Purpose::Ready:
        return f.clinic_name + ": the doctor is ready for you now. Join here: " + f.link;
    case Purpose::Summary:
        return f.clinic_name + ": your video consultation of " + when + " has ended. Thank you.";
    }
    return {};
}

EmailText email_text(Purpose purpose, const MessageFacts& f) {
    const std::string when = format_when(f.starts_at);
    const std::string contact = f.clinic_phone.empty() ? "" : " or call " + f.clinic_phone;
    const std::string sign = "\n\n" + f.clinic_name + "\n(This message was sent automatically; please do not reply.)\n";
    switch (purpose) {
    case Purpose::Invite:
        return {"Your video consultation with " + f.clinic_name,
                "Hello,\n\nyour video consultation with " + f.clinic_name + " is at " + when +
                    ".\n\nJoin from your phone or computer with this link:\n" + f.link +
                    "\n\nOpen it a few minutes early to check your camera and microphone." + sign};
    case Purpose::Update:
        return {"Your video consultation has moved to " + when,
                "Hello,\n\nyour video consultation with " + f.clinic_name + " has moved to " + when +
                    ".\n\nJoin with this link:\n" + f.link + sign};
    case Purpose::Cancellation:
        return {"Your video consultation at " + when + " is cancelled",
                "Hello,\n\nyour video consultation with " + f.clinic_name + " at " + when +
                    " is cancelled.\n\nTo book again, contact the clinic the usual way" + contact + "." + sign};
    case Purpose::VisitSummary:
        return {"Summary of your video consultation with " + f.clinic_name,
                "Hello,\n\nhere is the summary of your video consultation of " + when + ", from your doctor:\n\n" +
                    f.summary + "\n\nIf you have questions, contact the clinic the usual way" + contact + "." + sign};
    case Purpose::Reminder:
        return {"Reminder: video consultation at " + when,
                "Hello,\n\nyour video consultation with " + f.clinic_name + " starts at " + when +
                    ".\n\nJoin with this link:\n" + f.link + sign};
    case Purpose::Ready:
        return {"The doctor is ready for you",
                "Hello,\n\nthe doctor is ready for your video consultation now.\n\nJoin with this link:\n" + f.link + sign};
    case Purpose::Summary:
        return {"Your video consultation with " + f.clinic_name,
                "Hello,\n\nyour video consultation of " + when + " has ended. Thank you for joining.\n\n"
                "If you have questions, contact the clinic the usual way" + contact + "." + sign};
    }
    return {};
}

}  // namespace consult::notify
