// Unit tests start GStreamer once for the whole run (STYLE 9).
#include <gst/gst.h>
#include <gtest/gtest.h>

namespace {

class GstEnvironment : public ::testing::Environment {
public:
    void SetUp() override { gst_init(nullptr, nullptr); }
};

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new GstEnvironment);
    return RUN_ALL_TESTS();
}
