// Channels for tests. FakeChannel records every send and answers as told
// (delivered by default); MockChannel is gMock's, for tests whose point is
// exactly which sends happen (wrap it in StrictMock for "sent exactly
// once"). FakeChannels() hands a HeraldServer one FakeChannel per kind.
// Both are thread-safe, as the outbox's workers share channels.
#ifndef HERALD_TESTS_TESTING_FAKE_CHANNEL_H_
#define HERALD_TESTS_TESTING_FAKE_CHANNEL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "server/app/herald_server.h"
#include "server/delivery/channel.h"

namespace herald::testing {

class FakeChannel : public Channel {
 public:
  SendResult Send(const Outgoing& o) override {
    std::function<SendResult(const Outgoing&)> respond;
    {
      absl::MutexLock lock(&mu_);
      sent_.push_back(o);
      respond = respond_;
    }
    return respond ? respond(o) : SendResult::Delivered();
  }
  // How the channel answers from now on; unset: delivered.
  void RespondWith(std::function<SendResult(const Outgoing&)> respond) {
    absl::MutexLock lock(&mu_);
    respond_ = std::move(respond);
  }
  // Sends to `address` so far (the contact's, or the gateway URL for SMS).
  std::vector<Outgoing> SentTo(const std::string& address) {
    absl::MutexLock lock(&mu_);
    std::vector<Outgoing> out;
    for (const Outgoing& o : sent_) {
      if (o.address == address) out.push_back(o);
    }
    return out;
  }
  std::vector<Outgoing> Sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }
  size_t Sends() {
    absl::MutexLock lock(&mu_);
    return sent_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<Outgoing> sent_ ABSL_GUARDED_BY(mu_);
  std::function<SendResult(const Outgoing&)> respond_ ABSL_GUARDED_BY(mu_);
};

class MockChannel : public Channel {
 public:
  MOCK_METHOD(SendResult, Send, (const Outgoing& outgoing), (override));
};

// A Platform channel factory: `channel` for every kind. It must outlive
// the server.
inline auto FakeChannels(Channel& channel) {
  return [&channel](const v1::Config&, const DeliverySettings&,
                    const Clock&) -> absl::StatusOr<Channels> {
    Channels channels;
    for (v1::ChannelKind kind :
         {v1::CHANNEL_KIND_EMAIL, v1::CHANNEL_KIND_WEBHOOK,
          v1::CHANNEL_KIND_SLACK, v1::CHANNEL_KIND_SMS}) {
      channels.by_kind[kind] = &channel;
    }
    return channels;
  };
}

}  // namespace herald::testing

#endif  // HERALD_TESTS_TESTING_FAKE_CHANNEL_H_
