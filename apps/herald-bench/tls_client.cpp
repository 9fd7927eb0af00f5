#include "tls_client.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace herald::bench {

namespace {

// One read asks the kernel for this much at once (read-ahead): a
// subscriber's records of one round in one recv(), as on the plain path.
constexpr std::size_t read_ahead_bytes = 64 * 1024;

// OpenSSL's reason for the last failure, and an empty queue after it: a
// stale entry would make the next SSL_get_error() lie.
std::string drain_openssl_errors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    if (text.empty()) {
      const char* reason = ERR_reason_error_string(code);
      text = reason != nullptr ? reason : "unknown OpenSSL error";
    }
  }
  return text;
}

bool is_ip_address(const std::string& host) {
  unsigned char bytes[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), bytes) == 1 ||
         inet_pton(AF_INET6, host.c_str(), bytes) == 1;
}

int clamp_to_int(std::size_t size) {
  return size > INT_MAX ? INT_MAX : static_cast<int>(size);
}

}  // namespace

std::unique_ptr<tls_client_context> tls_client_context::create(const std::string& ca_file,
                                                               std::string& error) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) {
    error = "TLS setup: " + drain_openssl_errors();
    return nullptr;
  }
  std::unique_ptr<tls_client_context> result(new tls_client_context(context, !ca_file.empty()));
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  // Partial writes and a moving buffer let a connection keep appending to
  // its output vector while a record waits for the socket; released buffers
  // keep idle connections as cheap as plain ones.
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                SSL_MODE_RELEASE_BUFFERS);
  // Without read-ahead every record costs two recv() calls (header, body).
  SSL_CTX_set_read_ahead(context, 1);
  // A server that hangs up without close_notify has closed the stream, as
  // far as a bench is concerned: reported like a plain EOF.
  SSL_CTX_set_options(context, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_default_read_buffer_len(context, read_ahead_bytes);
  if (ca_file.empty()) {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
    return result;
  }
  if (SSL_CTX_load_verify_locations(context, ca_file.c_str(), nullptr) != 1) {
    error = "--tls-ca " + ca_file + ": " + drain_openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  return result;
}

tls_client_context::~tls_client_context() {
  SSL_CTX_free(context_);
}

void tls_session::ssl_free::operator()(ssl_st* ssl) const {
  SSL_free(ssl);
}

bool tls_session::begin(const tls_client_context& context, int fd, const std::string& server_name,
                        std::string& error) {
  ssl_.reset(SSL_new(context.native()));
  if (!ssl_ || SSL_set_fd(ssl_.get(), fd) != 1) {
    error = "TLS setup: " + drain_openssl_errors();
    end();
    return false;
  }
  bool ip = is_ip_address(server_name);
  bool named = true;
  // RFC 6066 allows no IP address in SNI.
  if (!ip) {
    named = SSL_set_tlsext_host_name(ssl_.get(), server_name.c_str()) == 1;
  }
  if (named && context.verifies_server()) {
    named = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), server_name.c_str()) == 1
               : SSL_set1_host(ssl_.get(), server_name.c_str()) == 1;
  }
  if (!named) {
    error = "TLS server name " + server_name + ": " + drain_openssl_errors();
    end();
    return false;
  }
  SSL_set_connect_state(ssl_.get());
  return true;
}

tls_status tls_session::handshake() {
  int result = SSL_do_handshake(ssl_.get());
  return result == 1 ? tls_status::done : status_of(result, "TLS handshake");
}

tls_transfer tls_session::read(char* data, std::size_t size) {
  tls_transfer result;
  read_waits_for_write_ = false;
  while (result.bytes < size) {
    int got = SSL_read(ssl_.get(), data + result.bytes, clamp_to_int(size - result.bytes));
    if (got <= 0) {
      result.status = status_of(got, "TLS receive");
      read_waits_for_write_ = result.status == tls_status::want_write;
      return result;
    }
    result.bytes += static_cast<std::size_t>(got);
  }
  return result;
}

tls_transfer tls_session::write(const char* data, std::size_t size) {
  tls_transfer result;
  write_waits_for_read_ = false;
  while (result.bytes < size) {
    int wrote = SSL_write(ssl_.get(), data + result.bytes, clamp_to_int(size - result.bytes));
    if (wrote <= 0) {
      result.status = status_of(wrote, "TLS send");
      write_waits_for_read_ = result.status == tls_status::want_read;
      return result;
    }
    result.bytes += static_cast<std::size_t>(wrote);
  }
  return result;
}

bool tls_session::has_buffered() const {
  return SSL_has_pending(ssl_.get()) == 1;
}

tls_status tls_session::status_of(int result, std::string_view operation) {
  int error = SSL_get_error(ssl_.get(), result);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return tls_status::want_read;
    case SSL_ERROR_WANT_WRITE:
      return tls_status::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return tls_status::closed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        // A bare EOF (errno 0) or a reset: the server went away.
        int saved = errno;
        if (saved == 0 || saved == ECONNRESET || saved == EPIPE) {
          return tls_status::closed;
        }
        error_text_ = std::string(operation) + ": " + std::strerror(saved);
        return tls_status::failed;
      }
      break;
    default:
      break;
  }
  std::string reason = drain_openssl_errors();
  // Without --tls-ca nothing is verified and the stored result means nothing.
  long verify = SSL_get_verify_result(ssl_.get());
  if (SSL_get_verify_mode(ssl_.get()) != SSL_VERIFY_NONE && verify != X509_V_OK) {
    reason = X509_verify_cert_error_string(verify);
  }
  // Reasons become keys of the report's failure counts: no addresses or
  // per-connection detail in them.
  error_text_ = std::string(operation) + ": " + (reason.empty() ? "error" : reason);
  return tls_status::failed;
}

void tls_session::say_goodbye() {
  if (ssl_ && SSL_is_init_finished(ssl_.get()) == 1) {
    SSL_shutdown(ssl_.get());
    drain_openssl_errors();
  }
}

void tls_session::end() {
  ssl_.reset();
}

}  // namespace herald::bench
