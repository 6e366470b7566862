// Email headers written from data, byte for byte, and as a real parser
// (Python's email package, Debian's /usr/bin/python3) reads them after
// libcurl has sent them to an SMTP server on 127.0.0.1.
#include "server/delivery/email_headers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/text.h"
#include "server/delivery/smtp_channel.h"
#include "tests/testing/harness.h"

namespace herald {
namespace {

using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Le;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

// The physical lines of a folded field.
std::vector<std::string> Lines(const std::string& field) {
  return absl::StrSplit(field, "\r\n");
}

std::vector<size_t> LineLengths(const std::string& field) {
  std::vector<size_t> out;
  for (const std::string& line : Lines(field)) out.push_back(line.size());
  return out;
}

// What RFC 5322 unfolding makes of `field`: the CRLFs go, the spaces stay.
std::string Unfold(const std::string& field) {
  return absl::StrReplaceAll(field, {{"\r\n", ""}});
}

TEST(EmailHeadersTest, PlainSubjectIsWrittenAsIs) {
  EXPECT_EQ(UnstructuredHeader("Subject", "Checkout is degraded"),
            "Subject: Checkout is degraded");
}

TEST(EmailHeadersTest, NulInASubjectIsReplacedNotTruncated) {
  const std::string subject("Outage\0 resolved", 16);
  EXPECT_EQ(UnstructuredHeader("Subject", subject),
            "Subject: =?UTF-8?B?T3V0YWdl77+9IHJlc29sdmVk?=");
}

TEST(EmailHeadersTest, LineBreaksCannotAddAHeader) {
  EXPECT_EQ(UnstructuredHeader("Subject",
                               "Hello\r\nBcc: victim@example.com\n\nbody\r"),
            "Subject: Hello Bcc: victim@example.com body");
  EXPECT_EQ(AddressHeader("From", "Acme\r\nBcc: x@example.com", "s@a.example"),
            "From: \"Acme Bcc: x@example.com\" <s@a.example>");
  EXPECT_EQ(AddressHeader("To", "", "grace@globex.example"),
            "To: <grace@globex.example>");
}

TEST(EmailHeadersTest, NonAsciiSubjectBecomesEncodedWords) {
  EXPECT_EQ(UnstructuredHeader("Subject", "Störung behoben 🎉"),
            "Subject: =?UTF-8?B?U3TDtnJ1bmcgYmVob2JlbiDwn46J?=");
  EXPECT_EQ(AddressHeader("From", "Acme Störungsdienst", "s@a.example"),
            "From: =?UTF-8?B?QWNtZSBTdMO2cnVuZ3NkaWVuc3Q=?= <s@a.example>");
}

TEST(EmailHeadersTest, TextThatLooksLikeAnEncodedWordIsEncodedItself) {
  const std::string field =
      UnstructuredHeader("Subject", "=?UTF-8?B?SGk=?= not decoded");
  EXPECT_THAT(field, StartsWith("Subject: =?UTF-8?B?"));
  EXPECT_THAT(field, Not(HasSubstr("SGk=?= not")));
}

TEST(EmailHeadersTest, DisplayNameWithSpecialsIsQuoted) {
  EXPECT_EQ(AddressHeader("From", "Acme, Inc. \"Status\"", "s@a.example"),
            "From: \"Acme, Inc. \\\"Status\\\"\" <s@a.example>");
  EXPECT_EQ(AddressHeader("List-Id", "Acme Cloud", "updates.a.example"),
            "List-Id: Acme Cloud <updates.a.example>");
}

TEST(EmailHeadersTest, LongAsciiSubjectIsFoldedBetweenWords) {
  std::string subject;
  while (subject.size() < 2000) absl::StrAppend(&subject, "checkout down ");
  subject.resize(2000);
  if (subject.back() == ' ') subject.back() = 'x';
  const std::string field = UnstructuredHeader("Subject", subject);
  EXPECT_THAT(Lines(field), SizeIs(::testing::Gt(25u)));
  EXPECT_THAT(LineLengths(field), Each(Le(78u)));
  EXPECT_EQ(Unfold(field), "Subject: " + subject);
}

TEST(EmailHeadersTest, LongWordlessSubjectIsSplitIntoEncodedWords) {
  const std::string subject(2000, 'x');
  const std::string field = UnstructuredHeader("Subject", subject);
  EXPECT_THAT(LineLengths(field), Each(Le(78u)));
  for (const std::string& line : Lines(field)) {
    const std::string word(
        absl::StripPrefix(absl::StripPrefix(line, "Subject:"), " "));
    EXPECT_THAT(word.size(), Le(75u));
    EXPECT_THAT(word, StartsWith("=?UTF-8?B?"));
  }
}

TEST(EmailHeadersTest, EncodedWordsSplitBetweenCodePoints) {
  std::string subject;
  for (int i = 0; i < 120; ++i) subject += "🎉ö";  // 4 and 2 bytes
  const std::string field = UnstructuredHeader("Subject", subject);
  EXPECT_THAT(LineLengths(field), Each(Le(78u)));
  std::string decoded;
  for (const std::string& line : Lines(field)) {
    absl::string_view word = absl::StripPrefix(line, "Subject:");
    word = absl::StripPrefix(word, " ");
    ASSERT_TRUE(absl::ConsumePrefix(&word, "=?UTF-8?B?")) << line;
    ASSERT_TRUE(absl::ConsumeSuffix(&word, "?=")) << line;
    std::string bytes;
    ASSERT_TRUE(absl::Base64Unescape(word, &bytes)) << line;
    EXPECT_TRUE(IsValidUtf8(bytes))
        << "word split inside a code point: " << line;
    decoded += bytes;
  }
  EXPECT_EQ(decoded, subject);
}

TEST(EmailHeadersTest, MessageIdLocalPartKeepsOnlyDotAtomText) {
  EXPECT_EQ(MessageIdLocalPart("msg-3-subscriber-globex.0"),
            "msg-3-subscriber-globex.0");
  EXPECT_EQ(MessageIdLocalPart("a b>\r\n.x..y="), "a=20b=3E=0D=0A.x.=2Ey=3D");
  EXPECT_EQ(MessageIdLocalPart(".lead."), "=2Elead=2E");
  EXPECT_NE(MessageIdLocalPart("a="), MessageIdLocalPart("a=3D"));
}

TEST(EmailHeadersTest, OnlyPlainAddressesAreHeaderSafe) {
  EXPECT_TRUE(IsHeaderSafeAddress("grace@globex.example"));
  EXPECT_FALSE(IsHeaderSafeAddress("a@b.c>\r\nBcc: <x@y.z"));
  EXPECT_FALSE(IsHeaderSafeAddress(std::string("a@b.c\0x", 7)));
  EXPECT_FALSE(IsHeaderSafeAddress("a b@c.d"));
  EXPECT_FALSE(IsHeaderSafeAddress("grâce@globex.example"));
  EXPECT_FALSE(IsHeaderSafeAddress("@globex.example"));
  EXPECT_FALSE(IsHeaderSafeAddress("grace@"));
}

// An SMTP server for one connection on 127.0.0.1 that keeps what DATA
// carried, exactly as it came over the wire (dot-stuffing undone).
class SmtpCapture {
 public:
  SmtpCapture() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listener_, 1) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~SmtpCapture() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  // The message's bytes once one has arrived.
  std::string Message() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return message_;
  }

 private:
  void Serve() {
    const int conn = accept(listener_, nullptr, nullptr);
    if (conn < 0) return;
    const auto say = [conn](absl::string_view s) {
      (void)!write(conn, s.data(), s.size());
    };
    say("220 capture ESMTP\r\n");
    std::string buffer;
    std::string data;
    bool in_data = false;
    char chunk[4096];
    for (;;) {
      const ssize_t n = read(conn, chunk, sizeof(chunk));
      if (n <= 0) break;
      buffer.append(chunk, n);
      size_t eol;
      while ((eol = buffer.find("\r\n")) != std::string::npos) {
        std::string line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            say("250 OK\r\n");
            absl::MutexLock lock(&mu_);
            message_ = data;
            done_ = true;
            continue;
          }
          if (absl::StartsWith(line, ".")) line.erase(0, 1);
          absl::StrAppend(&data, line, "\r\n");
        } else if (absl::StartsWithIgnoreCase(line, "EHLO")) {
          say("250 capture\r\n");
        } else if (absl::StartsWithIgnoreCase(line, "DATA")) {
          in_data = true;
          say("354 go on\r\n");
        } else if (absl::StartsWithIgnoreCase(line, "QUIT")) {
          say("221 bye\r\n");
          break;
        } else {
          say("250 OK\r\n");
        }
      }
    }
    close(conn);
    absl::MutexLock lock(&mu_);
    done_ = true;
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::string message_ ABSL_GUARDED_BY(mu_);
};

// What Python's email package (policy.default) makes of `message`: each
// header's decoded value by name, and "defects" listing every defect it
// found in the message or a header.
constexpr char kParseScript[] = R"py(
import email, email.policy, sys
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(),
                               policy=email.policy.default)
defects = [type(d).__name__ for d in msg.defects]
for name, value in msg.items():
    defects += [type(d).__name__ for d in value.defects]
    print(name, str(value).encode('utf-8').hex())
print('defects', ','.join(defects).encode().hex())
)py";

std::multimap<std::string, std::string> ParseWithPython(
    const std::string& message) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string stem =
      (dir / absl::StrCat("herald-email-", getpid(), "-", rand())).string();
  std::ofstream(stem + ".py") << kParseScript;
  std::ofstream(stem + ".eml", std::ios::binary) << message;
  std::multimap<std::string, std::string> out;
  FILE* p = popen(
      absl::StrCat("/usr/bin/python3 ", stem, ".py ", stem, ".eml").c_str(),
      "r");
  char line[65536];
  while (p != nullptr && fgets(line, sizeof(line), p) != nullptr) {
    std::vector<std::string> parts = absl::StrSplit(
        absl::StripTrailingAsciiWhitespace(line), absl::MaxSplits(' ', 1));
    if (parts.size() == 2) {
      out.emplace(parts[0], absl::HexStringToBytes(parts[1]));
    } else if (parts.size() == 1) {
      out.emplace(parts[0], "");
    }
  }
  if (p != nullptr) pclose(p);
  std::filesystem::remove(stem + ".py");
  std::filesystem::remove(stem + ".eml");
  return out;
}

TEST(SmtpHeadersOverTheWireTest, HostileSubjectAndNameReachAParserIntact) {
  if (!std::filesystem::exists("/usr/bin/python3")) {
    GTEST_SKIP() << "needs Debian's /usr/bin/python3";
  }
  SmtpCapture capture;
  ASSERT_NE(capture.port(), 0);
  FakeClock clock(testing::TestEpoch());
  SmtpChannel smtp(
      {absl::StrCat("smtp://127.0.0.1:", capture.port()), "status@acme.example",
       "Acme Störung\r\nBcc: x@evil.example", "", "", absl::Seconds(10)},
      clock);
  Outgoing o;
  o.channel = v1::CHANNEL_KIND_EMAIL;
  o.address = "grace@globex.example";
  std::string subject("Résolu\0: ", 9);
  absl::StrAppend(&subject, "line\r\nBcc: victim@evil.example ");
  while (subject.size() < 2000) absl::StrAppend(&subject, "🎉 checkout ok ");
  o.subject = subject;
  o.text = "hello\n";
  o.idempotency_key = "subscribe_confirm-self-1.0";
  o.unsubscribe_url = "https://status.acme.example/unsubscribe?token=abc";
  ASSERT_TRUE(smtp.Send(o).delivered());
  const std::string message = capture.Message();

  // Byte for byte: each header as Headers() wrote it, its lines within 78
  // (libcurl's own Content-Type line may be longer), all within 998.
  const std::string head = message.substr(0, message.find("\r\n\r\n") + 2);
  for (const std::string& field : smtp.Headers(o)) {
    EXPECT_THAT(head, HasSubstr(field + "\r\n"));
    EXPECT_THAT(LineLengths(field), Each(Le(78u))) << field;
  }
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    EXPECT_THAT(line.size(), Le(998u)) << line;
    EXPECT_FALSE(absl::StartsWithIgnoreCase(line, "bcc")) << line;
  }

  const std::multimap<std::string, std::string> parsed =
      ParseWithPython(message);
  std::string want = ScrubText(subject, /*keep_newlines=*/false);
  want = absl::StrJoin(absl::StrSplit(want, ' ', absl::SkipWhitespace()), " ");
  ASSERT_EQ(parsed.count("Subject"), 1u);
  EXPECT_EQ(parsed.find("Subject")->second, want);
  EXPECT_THAT(parsed.find("Subject")->second, HasSubstr("R\u00e9solu\ufffd:"));
  ASSERT_EQ(parsed.count("From"), 1u);
  EXPECT_EQ(parsed.find("From")->second,
            "\"Acme St\u00f6rung Bcc: x@evil.example\" <status@acme.example>");
  EXPECT_EQ(parsed.find("To")->second, "grace@globex.example");
  EXPECT_EQ(parsed.count("Bcc"), 0u);
  EXPECT_EQ(parsed.find("defects")->second, "");
}

}  // namespace
}  // namespace herald
