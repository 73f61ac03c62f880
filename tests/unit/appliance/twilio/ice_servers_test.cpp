// TURN credentials from the Network Traversal Service: the contract's example answer
// ('ttl' a string), when they are replaced, the webrtcbin forms, and the fallback.
#include "appliance/twilio/ice_servers.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace consult::twilio {
namespace {

std::string contract_example() {
    std::ifstream in(CONSULT_SOURCE_DIR "/tests/contracts/oai_api_v2010_tokens_create.json");
    auto j = nlohmann::json::parse(in);
    return j["paths"]["/2010-04-01/Accounts/{AccountSid}/Tokens.json"]["post"]["responses"]["201"]["content"]
            ["application/json"]["examples"]["create"]["value"].dump();
}

TEST(IceServers, ContractExampleParsesWithItsStringTtl) {
    auto list = parse_token_response(contract_example(), 1000);
    ASSERT_TRUE(list) << list.error();
    EXPECT_EQ(list->source, "twilio");
    ASSERT_EQ(list->servers.size(), 4u);
    EXPECT_EQ(list->servers[0].urls, "stun:global.stun.twilio.com:3478");
    EXPECT_TRUE(list->servers[0].username.empty());
    EXPECT_EQ(list->servers[1].urls, "turn:global.turn.twilio.com:3478?transport=udp");
    EXPECT_EQ(list->servers[1].credential, "tE2DajzSJwnsSbc123");
    EXPECT_EQ(list->expires_at, 1000 + 86400);
    auto j = to_json(*list);
    EXPECT_EQ(j["ice_servers"][1]["username"], list->servers[1].username);
    EXPECT_FALSE(j["ice_servers"][0].contains("credential"));
}

TEST(IceServers, BadAnswersAreRefused) {
    EXPECT_FALSE(parse_token_response("not json", 0));
    EXPECT_FALSE(parse_token_response(R"({"ice_servers":[],"ttl":"60"})", 0));
    EXPECT_FALSE(parse_token_response(R"({"ice_servers":[{"urls":"stun:a:1"}],"ttl":"sixty"})", 0));
    EXPECT_FALSE(parse_token_response(R"({"ice_servers":[{"urls":"stun:a:1"}]})", 0));
    EXPECT_TRUE(parse_token_response(R"({"ice_servers":[{"url":"stun:a:1"}],"ttl":60})", 0));
}

TEST(IceServers, ReplacedShortlyBeforeExpiry) {
    IceServerList day{{}, "twilio", 1000 + 86400};
    EXPECT_EQ(refresh_at(day, 1000), 1000 + 86400 - 300);   // five minutes before a day runs out
    IceServerList minute{{}, "twilio", 1000 + 60};
    EXPECT_EQ(refresh_at(minute, 1000), 1000 + 54);           // a tenth of a short life
}

TEST(IceServers, WebrtcbinUris) {
    EXPECT_EQ(webrtcbin_uri({"stun:global.stun.twilio.com:3478", "", ""}), "stun://global.stun.twilio.com:3478");
    EXPECT_EQ(webrtcbin_uri({"turn:global.turn.twilio.com:3478?transport=udp", "u", "p+/="}),
              "turn://u:p%2B%2F%3D@global.turn.twilio.com:3478?transport=udp");
}

TEST(IceServers, WithoutTwilioTheConfiguredStunServersAreUsed) {
    IceServers ice(nullptr, {"stun:stun.example.org:3478", "stun:stun2.example.org:3478"});
    auto list = ice.current(1000);
    EXPECT_EQ(list.source, "configured");
    ASSERT_EQ(list.servers.size(), 2u);
    EXPECT_EQ(list.servers[1].urls, "stun:stun2.example.org:3478");
    bool called = false;
    ice.get(1000, [&](const IceServerList& l) { called = l.source == "configured"; });
    EXPECT_TRUE(called);
    EXPECT_EQ(ice.fetches(), 0);
}

}  // namespace
}  // namespace consult::twilio
