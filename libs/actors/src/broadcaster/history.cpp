#include "history.hpp"

#include <cstdio>

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
  auto& history = self->state.engine.history;
  out.recoverable = decision.recoverable;
  out.positioned = true;
  out.was_recovering = from.recover;
  if (from.recover && decision.recoverable) {
    out.recovery =
        history.recover(channel, from.offset, from.epoch, now(), max_recovered_publications);
    if (!out.recovery.recovered && refuse_unrecovered) {
      out.refused = true;
      return;
    }
    out.recovered = out.recovery.recovered;
  } else {
    out.recovery.position = history.position(channel, now());
  }
}

cp::subscribe_result result_of(const prepared_subscription& prepared,
                               const publication_views& missed) {
  cp::subscribe_result result;
  result.expires = prepared.expires;
  result.ttl = prepared.ttl;
  if (!prepared.positioned) {
    return result;
  }
  result.recoverable = prepared.recoverable;
  result.positioned = true;
  result.was_recovering = prepared.was_recovering;
  result.recovered = prepared.recovered;
  result.publications = missed.views;
  result.epoch = prepared.recovery.position.epoch;
  result.offset = prepared.recovery.position.offset;
  return result;
}

deferred_text render_subscribe_reply(std::uint32_t id, prepared_subscription prepared) {
  const std::uint64_t bytes = data_bytes(prepared.recovery.publications);
  return {[id, prepared = std::move(prepared)](std::string& out) {
            const publication_views missed = views_of(prepared.recovery.publications);
            cp::append_subscribe_reply(out, id, result_of(prepared, missed));
          },
          bytes};
}

history_answer answer_history(broadcaster_pointer self, const std::string& channel,
                              const core::channel_query& query) {
  std::int64_t limit = query.limit;
  if (limit < 0 || limit > max_history_publications) {
    limit = max_history_publications;
  }
  auto found =
      self->state.engine.history.history(channel, query.since, limit, query.reverse, now());
  history_answer answer;
  if (found.error == core::history_error::bad_request) {
    cp::append_error_reply(answer.error, query.id, cp::errors::bad_request);
  } else if (found.error == core::history_error::unrecoverable_position) {
    cp::append_error_reply(answer.error, query.id, cp::errors::unrecoverable_position);
  } else {
    answer.render.bytes = data_bytes(found.publications);
    answer.render.append = [id = query.id, found = std::move(found)](std::string& out) {
      const publication_views publications = views_of(found.publications);
      cp::history_result result;
      result.publications = publications.views;
      result.epoch = found.position.epoch;
      result.offset = found.position.offset;
      cp::append_history_reply(out, id, result);
    };
  }
  return answer;
}

void sweep_history(broadcaster_pointer self) {
  auto& engine = self->state.engine;
  engine.history.sweep(now());
  auto& counters = *self->state.counters;
  const std::uint64_t evictions = engine.history.evictions();
  counters.history_channels.store(engine.history.channel_count(), std::memory_order_relaxed);
  counters.history_evictions.store(evictions, std::memory_order_relaxed);
  // What clients can make the server remember is capped: say so when the
  // cap bites, at most once a minute, however often it does.
  if (evictions != engine.evictions_at_report &&
      now() - engine.evictions_reported >= std::chrono::minutes{1}) {
    std::fprintf(stderr,
                 "herald: history-max-channels reached: %llu channel positions forgotten, the "
                 "least recently used first (%llu since the last report)\n",
                 static_cast<unsigned long long>(evictions),
                 static_cast<unsigned long long>(evictions - engine.evictions_at_report));
    engine.evictions_reported = now();
    engine.evictions_at_report = evictions;
  }
}

}  // namespace herald::actors::broadcaster_parts
