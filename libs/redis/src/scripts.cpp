#include "scripts.hpp"

namespace herald::redis::scripts {
namespace {

// What both stream scripts begin with (KEYS[1] the stream, KEYS[2] its meta,
// ARGV[6] an epoch for a stream that has none): the channel's epoch, made
// if the meta hash has none.
constexpr std::string_view stream_epoch = R"lua(
local epoch = redis.call("hget", KEYS[2], "e")
if epoch == false then
  -- A new epoch: whatever a stream of the forgotten one still holds is not
  -- of this one (its offsets start again at 1).
  epoch = ARGV[6]
  redis.call("hset", KEYS[2], "e", epoch)
  redis.call("del", KEYS[1])
end
)lua";

// What both presence reads begin with (KEYS: data, expire, users; ARGV[1]
// now): the entries whose node stopped refreshing them are dropped.
constexpr std::string_view presence_cleanup = R"lua(
local expired = redis.call("zrangebyscore", KEYS[2], "-inf", ARGV[1])
for _, client in ipairs(expired) do
  redis.call("hdel", KEYS[1], client)
  redis.call("hdel", KEYS[3], client)
end
redis.call("zremrangebyscore", KEYS[2], "-inf", ARGV[1])
)lua";

}  // namespace

const std::string publish = std::string{stream_epoch} + R"lua(
local offset = redis.call("hincrby", KEYS[2], "s", 1)
if ARGV[5] ~= "0" then
  redis.call("expire", KEYS[2], ARGV[5])
end
redis.call("xadd", KEYS[1], "MAXLEN", ARGV[2], offset, "d", ARGV[1])
redis.call("expire", KEYS[1], ARGV[3])
if ARGV[4] ~= "" then
  redis.call("publish", ARGV[4], "__p1:" .. offset .. ":" .. epoch .. "__" .. ARGV[1])
end
return {offset, epoch}
)lua";

const std::string read_stream = std::string{stream_epoch} + R"lua(
local top = redis.call("hget", KEYS[2], "s")
if top == false then
  top = "0"
end
if ARGV[5] ~= "0" then
  redis.call("expire", KEYS[2], ARGV[5])
end
-- false, not nil: a nil would end the reply's array before it
local entries = false
if ARGV[1] ~= "0" then
  local since = ARGV[2]
  if ARGV[4] == "0" then
    if ARGV[3] ~= "0" then
      entries = redis.call("xrange", KEYS[1], since, "+", "COUNT", ARGV[3])
    else
      entries = redis.call("xrange", KEYS[1], since, "+")
    end
  else
    if since == "-" then
      since = "+"
    end
    if ARGV[3] ~= "0" then
      entries = redis.call("xrevrange", KEYS[1], since, "-", "COUNT", ARGV[3])
    else
      entries = redis.call("xrevrange", KEYS[1], since, "-")
    end
  end
end
return {top, epoch, entries}
)lua";

const std::string presence_add = R"lua(
local is_new = redis.call("hexists", KEYS[1], ARGV[1]) == 0
redis.call("zadd", KEYS[2], ARGV[4], ARGV[1])
redis.call("hset", KEYS[1], ARGV[1], ARGV[2])
redis.call("hset", KEYS[3], ARGV[1], ARGV[3])
redis.call("expire", KEYS[1], ARGV[5])
redis.call("expire", KEYS[2], ARGV[5])
redis.call("expire", KEYS[3], ARGV[5])
if is_new and ARGV[6] ~= "" then
  redis.call("publish", ARGV[6], ARGV[7])
end
if is_new then
  return 1
end
return 0
)lua";

const std::string presence_remove = R"lua(
local existed = redis.call("hdel", KEYS[1], ARGV[1])
redis.call("zrem", KEYS[2], ARGV[1])
redis.call("hdel", KEYS[3], ARGV[1])
if existed == 1 and ARGV[2] ~= "" then
  redis.call("publish", ARGV[2], ARGV[3])
end
return existed
)lua";

const std::string presence_get = std::string{presence_cleanup} + R"lua(
return redis.call("hgetall", KEYS[1])
)lua";

const std::string presence_stats = std::string{presence_cleanup} + R"lua(
local users = {}
local distinct = 0
for _, user in ipairs(redis.call("hvals", KEYS[3])) do
  if users[user] == nil then
    users[user] = true
    distinct = distinct + 1
  end
end
return {redis.call("hlen", KEYS[1]), distinct}
)lua";

}  // namespace herald::redis::scripts
