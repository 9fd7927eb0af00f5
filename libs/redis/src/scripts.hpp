#pragma once

// The Lua scripts the engine runs in Redis, each atomic there: Centrifugo's
// (internal/redis_lua in centrifugal/centrifuge), adapted to Herald's
// payloads.

#include <string>

namespace herald::redis::scripts {

// KEYS: stream, meta. ARGV: payload, history size, history TTL (s), the
// channel's pub/sub channel ("" to publish nothing), meta TTL (s, "0":
// none), an epoch for a stream that has none. Bumps the offset, appends,
// trims to the size, sets the TTLs and publishes "__p1:<offset>:<epoch>__"
// with the payload. Returns {offset, epoch}. A channel without meta gets
// the new epoch, and loses any stream left from the old one (both scripts).
extern const std::string publish;

// KEYS: stream, meta. ARGV: include publications ("0"/"1"), since (an entry
// ID to start from, "-" for the start or, reversed, the top), limit ("0":
// none), reverse ("0"/"1"), meta TTL (s), an epoch for a stream that has
// none. Returns {top offset, epoch, entries or nil}.
extern const std::string read_stream;

// KEYS: data, expire, users. ARGV: client id, client info, user, expires
// at (unix s), TTL (s), pub/sub channel ("" for no join push), the join
// message. Returns 1 if the client is new to the channel.
extern const std::string presence_add;

// KEYS: data, expire, users. ARGV: client id, pub/sub channel ("" for no
// leave push), the leave message. Returns 1 if the client was there.
extern const std::string presence_remove;

// KEYS: data, expire, users. ARGV: now (unix s). Drops the expired, then
// returns the clients as {id, info, ...}.
extern const std::string presence_get;

// Same cleanup; returns {clients, distinct users}.
extern const std::string presence_stats;

}  // namespace herald::redis::scripts
