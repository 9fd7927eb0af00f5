#pragma once

// Streams: history appends, recovery at subscribe, history reads and the
// sweep that expires them. The memory engine's history is their only
// state.

#include <string>

#include "encoding.hpp"
#include "herald/core/channel_history.hpp"
#include "herald/core/channel_policy.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/client_requests.hpp"
#include "state.hpp"

namespace herald::actors::broadcaster_parts {

// Appends `publication` to `channel`'s history where its options keep one;
// its position, or {0, ""} without history.
core::stream_position append_to_history(broadcaster_pointer self, const std::string& channel,
                                        core::publication_ptr publication);

// A subscription's result as its reply carries it, with the storage its
// views point into: filled in place, never moved once filled.
struct prepared_subscription {
  core::client_protocol::subscribe_result result;
  core::recovery_result<core::publication_ptr> recovery;
  publication_views missed;
  // The client asked to be refused rather than get recovered = false
  // (flag 2), and its position is gone: error 112, no subscription.
  bool refused = false;
};

// With positions (the policy's decision), the stream's top, and for a
// recovering client the publications it missed since `from`, or
// recovered = false. Call at the point the subscriber is registered, so
// that the recovered publications and the pushes that follow meet without a
// gap or an overlap.
void prepare_subscription(broadcaster_pointer self, const std::string& channel,
                          const core::subscription_decision& decision,
                          const core::recovery_point& from, bool refuse_unrecovered,
                          prepared_subscription& out);

// The reply to a client's history command, or its error (107, 112).
std::string answer_history(broadcaster_pointer self, const std::string& channel,
                           const core::channel_query& query);

// Frees what has expired.
void sweep_history(broadcaster_pointer self);

}  // namespace herald::actors::broadcaster_parts
