// coalesce_short_pieces: a sendmsg's runs of short frames, copied together,
// keep every byte in its order; long frames, and a short one with no short
// neighbour, stay where they are; a full staging buffer leaves the rest as
// they were.
#include <catch2/catch.hpp>

#include <sys/uio.h>

#include <array>
#include <string>
#include <vector>

#include "short_piece_coalescing.hpp"

using herald::net::coalesce_below;
using herald::net::coalesce_short_pieces;

namespace {

struct gathered {
  std::vector<std::string> frames;  // owns what the pieces point at
  std::vector<iovec> pieces;

  explicit gathered(std::vector<std::string> texts) : frames(std::move(texts)) {
    for (auto& frame : frames) {
      pieces.push_back(iovec{frame.data(), frame.size()});
    }
  }

  std::string bytes(std::size_t count) const {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      out.append(static_cast<const char*>(pieces[i].iov_base), pieces[i].iov_len);
    }
    return out;
  }
  std::string all_frames() const {
    std::string out;
    for (const auto& frame : frames) {
      out += frame;
    }
    return out;
  }
};

bool points_into(const iovec& piece, const std::array<char, 4096>& staging) {
  const auto* at = static_cast<const char*>(piece.iov_base);
  return at >= staging.data() && at < staging.data() + staging.size();
}

}  // namespace

TEST_CASE("short pieces become one copied piece, in their order") {
  std::vector<std::string> texts;
  for (int i = 0; i < 16; ++i) {
    texts.push_back("frame " + std::to_string(i) + ";");
  }
  gathered g(texts);
  std::array<char, 4096> staging{};
  const std::size_t left =
      coalesce_short_pieces(g.pieces.data(), g.pieces.size(), staging.data(), staging.size());
  REQUIRE(left == 1);
  CHECK(points_into(g.pieces[0], staging));
  CHECK(g.bytes(left) == g.all_frames());
}

TEST_CASE("long pieces stay in place between runs of copied short ones") {
  const std::string long_frame(coalesce_below, 'L');
  gathered g({"a", "b", long_frame, "c", "d", "e", long_frame + "M"});
  std::array<char, 4096> staging{};
  const std::size_t left =
      coalesce_short_pieces(g.pieces.data(), g.pieces.size(), staging.data(), staging.size());
  REQUIRE(left == 4);
  CHECK(points_into(g.pieces[0], staging));
  CHECK(g.pieces[1].iov_base == g.frames[2].data());  // not copied
  CHECK(points_into(g.pieces[2], staging));
  CHECK(g.pieces[3].iov_base == g.frames[6].data());
  CHECK(g.bytes(left) == g.all_frames());
}

TEST_CASE("a lone piece is left as it is, however short") {
  gathered g({"only"});
  std::array<char, 4096> staging{};
  REQUIRE(coalesce_short_pieces(g.pieces.data(), 1, staging.data(), staging.size()) == 1);
  CHECK(g.pieces[0].iov_base == g.frames[0].data());
  CHECK(coalesce_short_pieces(g.pieces.data(), 0, staging.data(), staging.size()) == 0);
}

TEST_CASE("once the staging buffer is full, short pieces go as they are") {
  // 5 pieces of 1000 bytes and a staging buffer of 4096: four are copied
  // together, the fifth would not fit and stays.
  std::vector<std::string> texts;
  for (char c = 'a'; c < 'f'; ++c) {
    texts.emplace_back(1000, c);
  }
  gathered g(texts);
  std::array<char, 4096> staging{};
  const std::size_t left =
      coalesce_short_pieces(g.pieces.data(), g.pieces.size(), staging.data(), staging.size());
  REQUIRE(left == 2);
  CHECK(g.pieces[0].iov_len == 4000);
  CHECK(g.pieces[1].iov_base == g.frames[4].data());
  CHECK(g.bytes(left) == g.all_frames());
}

TEST_CASE("a short piece between long ones is not copied: it would save no iovec") {
  const std::string long_frame(coalesce_below, 'L');
  gathered g({long_frame, "x", long_frame, "y"});
  std::array<char, 4096> staging{};
  const std::size_t left =
      coalesce_short_pieces(g.pieces.data(), g.pieces.size(), staging.data(), staging.size());
  REQUIRE(left == 4);
  for (std::size_t i = 0; i < left; ++i) {
    CHECK(g.pieces[i].iov_base == g.frames[i].data());
  }
}

TEST_CASE("short pieces that fill the staging buffer exactly are all copied") {
  std::vector<std::string> texts(4, std::string(1000, 'f'));
  texts.emplace_back(96, 'g');
  gathered g(texts);
  std::array<char, 4096> staging{};
  const std::size_t left =
      coalesce_short_pieces(g.pieces.data(), g.pieces.size(), staging.data(), staging.size());
  REQUIRE(left == 1);
  CHECK(g.pieces[0].iov_len == staging.size());
  CHECK(g.bytes(left) == g.all_frames());
}
