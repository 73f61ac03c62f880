#include "appliance/domain/session_lifecycle.hpp"

#include <gtest/gtest.h>

#include <set>

namespace consult::domain {
namespace {

using S = SessionStatus;
const S kAll[] = {S::Scheduled, S::Waiting, S::InProgress, S::Completed, S::Cancelled};

TEST(SessionLifecycle, ExactlyTheAgreedTransitionsAreLegal) {
    const std::set<std::pair<S, S>> legal{{S::Scheduled, S::Waiting}, {S::Waiting, S::InProgress},
                                          {S::InProgress, S::Completed}, {S::Scheduled, S::Cancelled},
                                          {S::Waiting, S::Cancelled}};
    for (S from : kAll)
        for (S to : kAll) {
            auto refusal = refuse_transition(from, to);
            if (legal.count({from, to})) {
                EXPECT_FALSE(refusal) << to_string(from) << " -> " << to_string(to);
            } else {
                ASSERT_TRUE(refusal) << to_string(from) << " -> " << to_string(to);
                EXPECT_NE(refusal->find(std::string(to_string(from))), std::string::npos) << *refusal;
            }
        }
}

TEST(SessionLifecycle, RefusalsSayWhy) {
    EXPECT_NE(refuse_transition(S::Scheduled, S::InProgress)->find("only a waiting patient"), std::string::npos);
    EXPECT_NE(refuse_transition(S::Completed, S::Waiting)->find("already ended"), std::string::npos);
    EXPECT_NE(refuse_transition(S::InProgress, S::Cancelled)->find("ended, not cancelled"), std::string::npos);
}

TEST(SessionLifecycle, NamesRoundTrip) {
    for (S s : kAll) EXPECT_EQ(parse_session_status(to_string(s)), s);
    EXPECT_FALSE(parse_session_status("in_progress"));
    EXPECT_TRUE(is_closed(S::Completed));
    EXPECT_TRUE(is_closed(S::Cancelled));
    EXPECT_FALSE(is_closed(S::Waiting));
}

}  // namespace
}  // namespace consult::domain
