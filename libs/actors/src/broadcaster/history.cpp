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

void prepare_subscription(broadcaster_pointer self, const std::string& channel,
                          const core::subscription_decision& decision,
                          const core::recovery_point& from, bool refuse_unrecovered,
                          std::function<void(std::optional<prepared_subscription>)> done) {
  prepared_subscription out;
  if (!decision.positioned) {
    done(std::move(out));
    return;
  }
  out.recoverable = decision.recoverable;
  out.positioned = true;
  out.was_recovering = from.recover;
  auto& engine = *self->state.engine;
  if (from.recover && decision.recoverable) {
    engine.recover(
        channel, from.offset, from.epoch, max_recovered_publications,
        [out = std::move(out), refuse_unrecovered, done = std::move(done)](
            std::optional<core::recovery_result<core::publication_ptr>> recovery) mutable {
          if (!recovery) {
            done(std::nullopt);
            return;
          }
          out.recovery = std::move(*recovery);
          out.refused = !out.recovery.recovered && refuse_unrecovered;
          out.recovered = out.recovery.recovered;
          done(std::move(out));
        });
    return;
  }
  engine.position(channel, [out = std::move(out), done = std::move(done)](
                               std::optional<core::stream_position> position) mutable {
    if (!position) {
      done(std::nullopt);
      return;
    }
    out.recovery.position = std::move(*position);
    done(std::move(out));
  });
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

void answer_history(broadcaster_pointer self, const std::string& channel,
                    const core::channel_query& query, std::function<void(history_answer)> done) {
  std::int64_t limit = query.limit;
  if (limit < 0 || limit > max_history_publications) {
    limit = max_history_publications;
  }
  self->state.engine->history(
      channel, query.since, limit, query.reverse,
      [id = query.id,
       done = std::move(done)](std::optional<core::history_result<core::publication_ptr>> found) {
        history_answer answer;
        if (!found) {
          cp::append_error_reply(answer.error, id, cp::errors::internal);
        } else if (found->error == core::history_error::bad_request) {
          cp::append_error_reply(answer.error, id, cp::errors::bad_request);
        } else if (found->error == core::history_error::unrecoverable_position) {
          cp::append_error_reply(answer.error, id, cp::errors::unrecoverable_position);
        } else {
          answer.render.bytes = data_bytes(found->publications);
          answer.render.append = [id, found = std::move(*found)](std::string& out) {
            const publication_views publications = views_of(found.publications);
            cp::history_result result;
            result.publications = publications.views;
            result.epoch = found.position.epoch;
            result.offset = found.position.offset;
            cp::append_history_reply(out, id, result);
          };
        }
        done(std::move(answer));
      });
}

}  // namespace herald::actors::broadcaster_parts
