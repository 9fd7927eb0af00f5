#pragma once

// Streams: history appends, recovery at subscribe, history reads and the
// sweep that expires them. The memory engine's history is their only
// state.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "encoding.hpp"
#include "herald/actors/delivery.hpp"
#include "herald/core/channel_history.hpp"
#include "herald/core/channel_policy.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/client_requests.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// A subscription's result as its reply carries it: plain values and shared
// publications, so that the reply can be encoded anywhere, later.
struct prepared_subscription {
  bool expires = false;   // the channel token's `exp` ...
  std::uint32_t ttl = 0;  // ... in this many seconds
  bool positioned = false;
  bool recoverable = false;
  bool was_recovering = false;
  bool recovered = false;
  // The stream's top, and the publications a recovering client missed.
  core::recovery_result<core::publication_ptr> recovery;
  // The client asked to be refused rather than get recovered = false
  // (flag 2), and its position is gone: error 112, no subscription.
  bool refused = false;
};

// `prepared` as the encoders take it; its views point into `prepared` and
// `missed` (views_of(prepared.recovery.publications)).
core::client_protocol::subscribe_result result_of(const prepared_subscription& prepared,
                                                  const publication_views& missed);

// The subscribe reply to command `id`, made where it is called.
deferred_text render_subscribe_reply(std::uint32_t id, prepared_subscription prepared);

// With positions (the policy's decision), the stream's top, and for a
// recovering client the publications it missed since `from`, or
// recovered = false; nullopt when the engine could not tell. With the
// memory engine `done` runs before this returns; with a shared one later,
// and the publications received meanwhile (join_attempt) are the ones
// after the position.
void prepare_subscription(broadcaster_pointer self, const std::string& channel,
                          const core::subscription_decision& decision,
                          const core::recovery_point& from, bool refuse_unrecovered,
                          std::function<void(std::optional<prepared_subscription>)> done);

// The reply to a client's history command (made where it is called), or
// its error (100, 107, 112) as text.
struct history_answer {
  std::string error;
  deferred_text render;
};
void answer_history(broadcaster_pointer self, const std::string& channel,
                    const core::channel_query& query, std::function<void(history_answer)> done);

}  // namespace herald::actors::broadcaster_parts
