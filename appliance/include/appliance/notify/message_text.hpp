// The words sent to patients. No clinical detail ever: the clinic's name, the time,
// and the link to the waiting room — nothing about why the patient is coming.
#pragma once

#include "appliance/notify/message.hpp"

#include <ctime>
#include <string>

namespace consult::notify {

struct MessageFacts {
    std::string clinic_name;
    std::time_t starts_at = 0;     // the appointment's start
    std::string link;              // <public base>/j/<code> or /v/<room>#t=<token>; empty for the summary, a cancellation
    std::string clinic_phone;      // may be empty
    std::string summary;           // the doctor's summary for the patient (its email only)
};

// "09:30 on Tue 24 Nov" in the box's time zone (the clinic's).
std::string format_when(std::time_t t);

std::string sms_text(Purpose purpose, const MessageFacts& facts);

struct EmailText {
    std::string subject;
    std::string body;
};
EmailText email_text(Purpose purpose, const MessageFacts& facts);

}  // namespace consult::notify
