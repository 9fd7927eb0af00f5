#include "resp_reader.hpp"

#include <memory>

#include <hiredis/read.h>

namespace herald::redis {
namespace {

using core::resp_value;

// hiredis builds a reply bottom-up through these: an element is made in
// its slot of the parent's array (sized at createArray), and only the root
// is owned by the caller.
void* place(const redisReadTask* task, resp_value&& value) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<resp_value*>(task->parent->obj);
    resp_value& slot = parent->elements[static_cast<std::size_t>(task->idx)];
    slot = std::move(value);
    return &slot;
  }
  return new resp_value(std::move(value));
}

void* create_string(const redisReadTask* task, char* text, std::size_t length) {
  resp_value value;
  value.type = task->type == REDIS_REPLY_ERROR    ? resp_value::kind::error
               : task->type == REDIS_REPLY_STATUS ? resp_value::kind::status
                                                  : resp_value::kind::string;
  value.text.assign(text, length);
  return place(task, std::move(value));
}

void* create_array(const redisReadTask* task, int elements) {
  if (elements < 0 || static_cast<std::size_t>(elements) > resp_reader::max_elements) {
    return nullptr;  // hiredis reports it as out of memory: the stream is broken
  }
  resp_value value;
  value.type = resp_value::kind::array;
  value.elements.resize(static_cast<std::size_t>(elements));
  return place(task, std::move(value));
}

void* create_integer(const redisReadTask* task, long long number) {
  return place(task, resp_value::integer_of(number));
}

void* create_nil(const redisReadTask* task) {
  return place(task, resp_value{});
}

void free_object(void* root) {
  delete static_cast<resp_value*>(root);
}

redisReplyObjectFunctions functions{create_string, create_array, create_integer, create_nil,
                                    free_object};

}  // namespace

resp_reader::resp_reader(std::size_t max_buffered)
    : reader_(redisReaderCreateWithFunctions(&functions)), max_buffered_(max_buffered) {
  if (reader_ == nullptr) {
    throw std::bad_alloc{};
  }
}

resp_reader::~resp_reader() {
  redisReaderFree(reader_);
}

bool resp_reader::feed(const char* data, std::size_t size) {
  if (failed()) {
    return false;
  }
  if (reader_->len - reader_->pos + size > max_buffered_) {
    error_ = "a reply larger than " + std::to_string(max_buffered_) + " bytes";
    return false;
  }
  if (redisReaderFeed(reader_, data, size) != REDIS_OK) {
    error_ = reader_->errstr;
    return false;
  }
  return true;
}

std::optional<core::resp_value> resp_reader::next() {
  if (failed()) {
    return std::nullopt;
  }
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
    error_ = reader_->errstr[0] != '\0' ? reader_->errstr : "malformed reply";
    return std::nullopt;
  }
  if (reply == nullptr) {
    return std::nullopt;
  }
  std::unique_ptr<resp_value> owned{static_cast<resp_value*>(reply)};
  return std::move(*owned);
}

}  // namespace herald::redis
