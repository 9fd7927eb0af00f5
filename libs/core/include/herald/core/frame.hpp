#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace herald::core {

// One outgoing WebSocket frame, header included, exactly as it goes on the
// wire. Serialized and framed once per publication and shared by every
// subscriber: copies of the payload per delivery are zero.
using frame_ptr = std::shared_ptr<const std::string>;

inline frame_ptr make_frame(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

// The frames of one channel that the broadcaster forwards to each subscriber
// in one message: the publications that reached it in one scheduling round.
// Subscribers share the batch, so a delivery costs one reference count per
// subscriber and batch, not one per frame.
struct frame_batch {
  std::vector<frame_ptr> frames;
  std::size_t bytes = 0;  // sum of the frames' sizes
  // Client protocol: the channel these pushes belong to, so a session can
  // drop pushes that were in flight when it unsubscribed; empty for replies
  // and /ws frames.
  std::string channel;
  // The same frames for connections that negotiated permessage-deflate:
  // made once, by deflated() (permessage_deflate.hpp), on first need; null
  // there when no frame was worth compressing.
  mutable std::once_flag deflate_once;
  mutable std::shared_ptr<const frame_batch> deflated_twin;

  void append(frame_ptr frame) {
    bytes += frame->size();
    frames.push_back(std::move(frame));
  }
};

using frame_batch_ptr = std::shared_ptr<const frame_batch>;

inline frame_batch_ptr make_batch(std::vector<frame_ptr> frames) {
  auto batch = std::make_shared<frame_batch>();
  batch->frames.reserve(frames.size());
  for (auto& frame : frames) {
    batch->append(std::move(frame));
  }
  return batch;
}

// One publication as the broadcaster receives it: its data as compact JSON
// text (the client protocol's `data`; for /ws clients the whole message) and,
// when it came from a /ws client, the /ws frame already built on that
// client's I/O thread. Shared, never copied, by every subscriber.
// Who published, for the `info` of client-protocol publications
// (Centrifugo's ClientInfo): set for publications of client-protocol
// clients, shared by all of one client's publications on a channel.
struct publisher_info {
  std::string user;
  std::string client;
  std::string conn_info;  // raw JSON; "" if none
  std::string chan_info;  // raw JSON; "" if none
};

struct publication {
  std::string data;
  frame_ptr seed_frame;  // null: the broadcaster frames `data` for /ws itself
  std::shared_ptr<const publisher_info> publisher;  // null: from /ws or the server API
};

using publication_ptr = std::shared_ptr<const publication>;

inline publication_ptr make_publication(std::string data, frame_ptr seed_frame = nullptr,
                                        std::shared_ptr<const publisher_info> publisher = nullptr) {
  return std::make_shared<const publication>(
      publication{std::move(data), std::move(seed_frame), std::move(publisher)});
}

}  // namespace herald::core
