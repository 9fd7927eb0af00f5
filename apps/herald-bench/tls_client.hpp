#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

// OpenSSL's own names for SSL_CTX and SSL: the rest of the bench never
// includes an OpenSSL header.
struct ssl_ctx_st;
struct ssl_st;

namespace herald::bench {

// What every TLS connection of a run shares: one SSL_CTX (TLS 1.2 or later).
class tls_client_context {
 public:
  // `ca_file`: PEM roots the server's certificate must chain to, its name
  // checked too; empty: the server is not verified at all (a bench on
  // loopback against a throwaway certificate). Null, with `error` set, if
  // OpenSSL refuses the setup or the file.
  static std::unique_ptr<tls_client_context> create(const std::string& ca_file, std::string& error);
  ~tls_client_context();
  tls_client_context(const tls_client_context&) = delete;
  tls_client_context& operator=(const tls_client_context&) = delete;

  bool verifies_server() const { return verifies_server_; }
  ssl_ctx_st* native() const { return context_; }

 private:
  tls_client_context(ssl_ctx_st* context, bool verifies_server)
      : context_(context), verifies_server_(verifies_server) {}

  ssl_ctx_st* context_;
  bool verifies_server_;
};

// Where a TLS call stopped.
enum class tls_status : std::uint8_t {
  done,        // handshake complete / every byte read or written that was asked for
  want_read,   // call again once the socket is readable
  want_write,  // call again once the socket is writable
  closed,      // the server ended the TLS stream (close_notify or a bare EOF)
  failed,      // anything else: error_text() says what
};

struct tls_transfer {
  std::size_t bytes = 0;
  tls_status status = tls_status::done;
};

// One connection's TLS over its non-blocking socket. Inactive (a plain
// connection) until begin(); the socket stays the caller's to close.
class tls_session {
 public:
  // Attaches to `fd` and prepares the client hello for `server_name`: sent
  // as SNI unless it is an IP address, and checked against the certificate
  // when the context verifies. False, with `error` set, if OpenSSL refuses.
  bool begin(const tls_client_context& context, int fd, const std::string& server_name,
             std::string& error);
  bool active() const { return ssl_ != nullptr; }

  tls_status handshake();
  // Reads until `size` bytes arrived or the socket has nothing more.
  // SSL_read hands out one record at a time and OpenSSL may have read ahead
  // of what it handed out, which epoll cannot see: after `done`, call again
  // while has_buffered() says so.
  tls_transfer read(char* data, std::size_t size);
  // Writes until everything is written or the socket is full. After
  // want_read/want_write, the next call must start with the bytes that were
  // not written (the buffer may have moved and grown since).
  tls_transfer write(const char* data, std::size_t size);
  bool has_buffered() const;
  // A renegotiation-like exchange blocked one direction on the other: a
  // write waits for readability, or a read for writability.
  bool write_waits_for_read() const { return write_waits_for_read_; }
  bool read_waits_for_write() const { return read_waits_for_write_; }

  // The reason of the last `failed`, from OpenSSL's error queue (emptied).
  const std::string& error_text() const { return error_text_; }

  // Sends close_notify if the socket takes it at once (end of run).
  void say_goodbye();
  // Frees the session: back to inactive.
  void end();

 private:
  struct ssl_free {
    void operator()(ssl_st* ssl) const;
  };
  tls_status status_of(int result, std::string_view operation);

  std::unique_ptr<ssl_st, ssl_free> ssl_;
  std::string error_text_;
  bool write_waits_for_read_ = false;
  bool read_waits_for_write_ = false;
};

}  // namespace herald::bench
