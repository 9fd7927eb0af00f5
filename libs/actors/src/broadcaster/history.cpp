#include "history.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace cp = core::client_protocol;

// Most publications a recovering subscriber gets in its subscribe reply
// (Centrifugo's default client_recovery_max_publication_limit); with more
// missed, recovered is false and the client reloads its state.
constexpr std::size_t max_recovered_publications = 300;

// Most publications one history command returns (Centrifugo's default
// client_history_max_publication_limit).
constexpr std::int64_t max_history_publications = 300;

}  // namespace

core::stream_position append_to_history(broadcaster_pointer self, const std::string& channel,
                                        core::publication_ptr publication) {
  const core::history_options options = self->state.policy.history(channel);
  if (!options.enabled()) {
    return {};
  }
  return self->state.engine.history.append(channel, std::move(publication), now(), options);
}

void prepare_subscription(broadcaster_pointer self, const std::string& channel,
                          const core::subscription_decision& decision,
                          const core::recovery_point& from, bool refuse_unrecovered,
                          prepared_subscription& out) {
  if (!decision.positioned) {
    return;
  }
  auto& result = out.result;
  auto& history = self->state.engine.history;
  result.recoverable = decision.recoverable;
  result.positioned = true;
  result.was_recovering = from.recover;
  if (from.recover && decision.recoverable) {
    out.recovery =
        history.recover(channel, from.offset, from.epoch, now(), max_recovered_publications);
    if (!out.recovery.recovered && refuse_unrecovered) {
      out.refused = true;
      return;
    }
    result.recovered = out.recovery.recovered;
  } else {
    out.recovery.position = history.position(channel, now());
  }
  out.missed = views_of(out.recovery.publications);
  result.publications = out.missed.views;
  result.epoch = out.recovery.position.epoch;
  result.offset = out.recovery.position.offset;
}

std::string answer_history(broadcaster_pointer self, const std::string& channel,
                           const core::channel_query& query) {
  std::int64_t limit = query.limit;
  if (limit < 0 || limit > max_history_publications) {
    limit = max_history_publications;
  }
  const auto found =
      self->state.engine.history.history(channel, query.since, limit, query.reverse, now());
  std::string reply;
  if (found.error == core::history_error::bad_request) {
    cp::append_error_reply(reply, query.id, cp::errors::bad_request);
  } else if (found.error == core::history_error::unrecoverable_position) {
    cp::append_error_reply(reply, query.id, cp::errors::unrecoverable_position);
  } else {
    cp::history_result result;
    const publication_views publications = views_of(found.publications);
    result.publications = publications.views;
    result.epoch = found.position.epoch;
    result.offset = found.position.offset;
    cp::append_history_reply(reply, query.id, result);
  }
  return reply;
}

void sweep_history(broadcaster_pointer self) {
  self->state.engine.history.sweep(now());
}

}  // namespace herald::actors::broadcaster_parts
