#include "server/core/org/authorizer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/secret_token.h"
#include "server/config/config_loader.h"

namespace herald {
namespace {

using ::testing::HasSubstr;

class AuthorizerTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Organisation> org_ =
      *BuildOrganisation(DefaultConfig(), "test");
  SecureRandom random_;
  Authorizer authorizer_{org_,
                         {{Sha256Hex("alice-token"), "alice"},
                          {Sha256Hex("carol-token"), "carol"}},
                         random_};
};

TEST_F(AuthorizerTest, KnownTokenAuthenticatesItsPersonWithTheirRoles) {
  absl::StatusOr<Caller> c = authorizer_.Authenticate("carol-token");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->person_id, "carol");
  EXPECT_TRUE(c->roles.contains(v1::ROLE_COMMS_LEAD));
}

TEST_F(AuthorizerTest, MissingTokenIsUnauthenticatedAndSaysHowToSendOne) {
  absl::Status s = authorizer_.Authenticate("").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()), HasSubstr("Bearer"));
}

TEST_F(AuthorizerTest, UnknownTokenIsUnauthenticated) {
  EXPECT_EQ(authorizer_.Authenticate("guess").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthorizerTest, EngineerMayPostUpdatesButNotApprove) {
  Caller alice = *authorizer_.Authenticate("alice-token");
  EXPECT_TRUE(Authorizer::Authorize(alice, Permission::kPostUpdate).ok());
  absl::Status s = Authorizer::Authorize(alice, Permission::kApproveMessage);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("comms_lead"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("engineer"));
}

TEST_F(AuthorizerTest, OnlyCommsRolesReachApprovalWhereCoreChecksAuthority) {
  EXPECT_EQ(RolesGranting(Permission::kApproveMessage),
            (std::set<v1::Role>{v1::ROLE_COMMS, v1::ROLE_COMMS_LEAD}));
}

TEST_F(AuthorizerTest, OnlyCommsLeadsAndAdminsManageRotas) {
  EXPECT_EQ(RolesGranting(Permission::kManageRota),
            (std::set<v1::Role>{v1::ROLE_COMMS_LEAD, v1::ROLE_ADMIN}));
}

TEST(SecretTokenTest, HashIsHexSha256) {
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretTokenTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(SecretTokenTest, GeneratedTokensAreDistinctAndLong) {
  SecureRandom random;
  const std::string a = GenerateToken(random), b = GenerateToken(random);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 45u);
}

}  // namespace
}  // namespace herald
