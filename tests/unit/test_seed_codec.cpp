#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "herald/core/seed_codec.hpp"
#include "json_test_support.hpp"

using herald::core::close_code;
using herald::core::decode_seed_frame;
using herald::core::encode_seed_data;
using herald::core::encode_seed_message;
using herald::test::bytes;

namespace {

void require_rejected(std::string_view frame, std::string_view reason) {
  INFO("frame: " << frame);
  const auto result = decode_seed_frame(frame);
  REQUIRE_FALSE(result.ok);
  REQUIRE(result.reason == reason);
  REQUIRE(result.message.empty());
}

}  // namespace

TEST_CASE("close codes match RFC 6455", "[seed_codec]") {
  STATIC_REQUIRE(static_cast<int>(close_code::normal) == 1000);
  STATIC_REQUIRE(static_cast<int>(close_code::going_away) == 1001);
  STATIC_REQUIRE(static_cast<int>(close_code::unsupported_data) == 1003);
  STATIC_REQUIRE(static_cast<int>(close_code::invalid_payload) == 1007);
  STATIC_REQUIRE(static_cast<int>(close_code::policy_violation) == 1008);
  STATIC_REQUIRE(static_cast<int>(close_code::message_too_big) == 1009);
}

TEST_CASE("decode_seed_frame accepts a message object", "[seed_codec]") {
  const auto result = decode_seed_frame(R"({"message":"hello"})");
  REQUIRE(result.ok);
  REQUIRE(result.message == "hello");
  REQUIRE(result.reason.empty());
}

TEST_CASE("decode_seed_frame tolerates whitespace around and inside", "[seed_codec]") {
  const auto result = decode_seed_frame(" \n{ \"message\" :\t\"hi there\" }\r\n ");
  REQUIRE(result.ok);
  REQUIRE(result.message == "hi there");
}

TEST_CASE("decode_seed_frame drops extra members", "[seed_codec]") {
  SECTION("before and after") {
    const auto result =
        decode_seed_frame(R"({"id":7,"message":"payload","meta":{"a":[1,2,3]},"flag":true})");
    REQUIRE(result.ok);
    REQUIRE(result.message == "payload");
  }
  SECTION("extra members of any type, including null") {
    const auto result = decode_seed_frame(R"({"x":null,"y":"z","message":"m"})");
    REQUIRE(result.ok);
    REQUIRE(result.message == "m");
  }
  SECTION("a nested message member does not count") {
    require_rejected(R"({"data":{"message":"inner"}})", "missing \"message\"");
  }
}

TEST_CASE("decode_seed_frame: duplicate message keys keep the last one", "[seed_codec]") {
  // Boost.JSON keeps the last of duplicate keys; pin it so a change shows up.
  const auto result = decode_seed_frame(R"({"message":"first","message":"second"})");
  REQUIRE(result.ok);
  REQUIRE(result.message == "second");
}

TEST_CASE("decode_seed_frame rejects invalid JSON", "[seed_codec]") {
  const char* const frames[] = {
      "",
      " ",
      "{",
      "}",
      "{\"message\":}",
      "{\"message\":\"unterminated}",
      "{'message':'single quotes'}",
      "{message:\"unquoted key\"}",
      "{\"message\":\"x\",}",
      "{\"message\":\"x\"} trailing",
      "{\"message\":\"x\"}{\"message\":\"y\"}",
      "{\"message\":\"x\" /* comment */}",
      "{\"message\":\"bad escape \\q\"}",
      "{\"message\":\"lone surrogate \\ud800\"}",
      "nul",
      "hello",
  };
  for (const char* frame : frames) {
    require_rejected(frame, "invalid JSON");
  }
}

TEST_CASE("decode_seed_frame rejects invalid UTF-8 and raw control characters", "[seed_codec]") {
  require_rejected(bytes("{\"message\":\"\xff\"}"), "invalid JSON");
  require_rejected(bytes("{\"message\":\"\xc3\"}"), "invalid JSON");      // truncated sequence
  require_rejected(bytes("{\"message\":\"\xc0\xaf\"}"), "invalid JSON");  // overlong '/'
  require_rejected(bytes("{\"message\":\"a\nb\"}"), "invalid JSON");      // raw newline
  require_rejected(bytes("{\"message\":\"a\0b\"}"), "invalid JSON");      // raw NUL
}

TEST_CASE("decode_seed_frame rejects JSON that is not an object", "[seed_codec]") {
  const char* const frames[] = {
      "[]",   R"([{"message":"in an array"}])", "42", "-1.5e3", R"("message")", "true", "false",
      "null",
  };
  for (const char* frame : frames) {
    require_rejected(frame, "expected a JSON object");
  }
}

TEST_CASE("decode_seed_frame requires a message member", "[seed_codec]") {
  require_rejected("{}", "missing \"message\"");
  require_rejected(R"({"msg":"close but no"})", "missing \"message\"");
  require_rejected(R"({"Message":"case matters"})", "missing \"message\"");
  require_rejected(R"({"message ":"trailing space in key"})", "missing \"message\"");
}

TEST_CASE("decode_seed_frame requires message to be a string", "[seed_codec]") {
  const char* const frames[] = {
      R"({"message":1})",    R"({"message":-3})",
      R"({"message":1.25})", R"({"message":null})",
      R"({"message":true})", R"({"message":false})",
      R"({"message":{}})",   R"({"message":{"message":"x"}})",
      R"({"message":[]})",   R"({"message":["x"]})",
  };
  for (const char* frame : frames) {
    require_rejected(frame, "\"message\" must be a string");
  }
}

TEST_CASE("decode_seed_frame accepts an empty message", "[seed_codec]") {
  const auto result = decode_seed_frame(R"({"message":""})");
  REQUIRE(result.ok);
  REQUIRE(result.message.empty());
  REQUIRE(result.reason.empty());
}

TEST_CASE("decode_seed_frame decodes escapes and unicode", "[seed_codec]") {
  SECTION("simple escapes") {
    const auto result = decode_seed_frame(R"({"message":"q\" b\\ s\/ \b\f\n\r\t"})");
    REQUIRE(result.ok);
    REQUIRE(result.message == "q\" b\\ s/ \b\f\n\r\t");
  }
  SECTION("\\u escapes, including a surrogate pair") {
    const auto result = decode_seed_frame(R"({"message":"\u00e9\u20ac\ud83d\ude00\u0041"})");
    REQUIRE(result.ok);
    REQUIRE(result.message ==
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
            "A");
  }
  SECTION("escaped NUL survives") {
    const auto result = decode_seed_frame(R"({"message":"a\u0000b"})");
    REQUIRE(result.ok);
    REQUIRE(result.message == bytes("a\0b"));
    REQUIRE(result.message.size() == 3);
  }
  SECTION("raw UTF-8") {
    const auto result = decode_seed_frame("{\"message\":\"gr\xc3\xbc\xc3\x9f \xe2\x9c\x93\"}");
    REQUIRE(result.ok);
    REQUIRE(result.message == "gr\xc3\xbc\xc3\x9f \xe2\x9c\x93");
  }
}

TEST_CASE("encode_seed_message produces exact bytes", "[seed_codec]") {
  REQUIRE(encode_seed_message("hello") == R"({"message":"hello"})");
  REQUIRE(encode_seed_message("") == R"({"message":""})");
  REQUIRE(encode_seed_message("with space") == R"({"message":"with space"})");
}

TEST_CASE("encode_seed_message escapes quotes, backslashes and control characters",
          "[seed_codec]") {
  REQUIRE(encode_seed_message("say \"hi\"") == R"({"message":"say \"hi\""})");
  REQUIRE(encode_seed_message("C:\\dir\\file") == R"({"message":"C:\\dir\\file"})");
  REQUIRE(encode_seed_message("\\\"") == R"({"message":"\\\""})");
  REQUIRE(encode_seed_message("a\nb\rc\td\be\ff") == R"({"message":"a\nb\rc\td\be\ff"})");
  REQUIRE(encode_seed_message(bytes("\x01\x1f\0")) == R"({"message":"\u0001\u001f\u0000"})");
  // Not escaped: forward slash, DEL and non-ASCII UTF-8.
  REQUIRE(encode_seed_message("a/b") == R"({"message":"a/b"})");
  REQUIRE(encode_seed_message("\x7f") == "{\"message\":\"\x7f\"}");
  REQUIRE(encode_seed_message("\xc3\xa9\xf0\x9f\x98\x80") ==
          "{\"message\":\"\xc3\xa9\xf0\x9f\x98\x80\"}");
}

TEST_CASE("encode_seed_message output decodes back to the same message", "[seed_codec]") {
  const std::string messages[] = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      bytes("controls \x01\x02\x1f\x7f and NUL \0 end"),
      "newlines\n\r\n and tabs\t",
      "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
      std::string(10000, 'x'),
      R"({"message":"nested json text"})",
  };
  for (const auto& message : messages) {
    const auto encoded = encode_seed_message(message);
    INFO("encoded: " << encoded);
    const auto decoded = decode_seed_frame(encoded);
    REQUIRE(decoded.ok);
    REQUIRE(decoded.message == message);
  }
}

TEST_CASE("encode_seed_data serializes any JSON value compactly", "[seed_codec]") {
  REQUIRE(encode_seed_data(boost::json::value("text")) == R"("text")");
  REQUIRE(encode_seed_data(boost::json::value(nullptr)) == "null");
  REQUIRE(encode_seed_data(boost::json::value(true)) == "true");
  REQUIRE(encode_seed_data(boost::json::value(-42)) == "-42");
  REQUIRE(encode_seed_data(boost::json::value(std::uint64_t{18446744073709551615u})) ==
          "18446744073709551615");
  REQUIRE(encode_seed_data(boost::json::parse(R"( { "a" : [ 1 , "b" , null ] , "c" : { } } )")) ==
          R"({"a":[1,"b",null],"c":{}})");
  REQUIRE(encode_seed_data(boost::json::parse("[]")) == "[]");
  REQUIRE(encode_seed_data(boost::json::value("q\"\\\n\x01")) == R"("q\"\\\n\u0001")");
}

TEST_CASE("encode_seed_data of a message object matches encode_seed_message", "[seed_codec]") {
  const std::string message = "same \"bytes\"\n";
  boost::json::value object = boost::json::parse(R"({"message":""})");
  object.as_object()["message"] = message;
  REQUIRE(encode_seed_data(object) == encode_seed_message(message));
}

TEST_CASE("encode_seed_data output parses back to an equal value", "[seed_codec]") {
  const auto original = boost::json::parse(
      R"({"n":1.5,"i":-7,"u":12345678901234,"s":"\u00e9\"","a":[[],{},null,false],"o":{"k":"v"}})");
  const auto encoded = encode_seed_data(original);
  REQUIRE(boost::json::parse(encoded) == original);
}
