#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

namespace herald::net {
namespace {

// TLS 1.2's suites with forward secrecy and AEAD (Mozilla's "intermediate"
// list); TLS 1.3's own suites are all AEAD, and OpenSSL's defaults stand.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* key_exchange_groups = "X25519:P-256:P-384";

// The reason of the last OpenSSL error (and the queue emptied), for a
// config_error's message.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  std::string reason = code != 0 ? ERR_reason_error_string(code) ? ERR_reason_error_string(code)
                                                                 : "unknown OpenSSL error"
                                 : "unknown OpenSSL error";
  ERR_clear_error();
  return reason;
}

// HTTP/1.1 is the only protocol spoken; a client that offers others (h2)
// but not it gets no ALPN answer and may go on with HTTP/1.1 regardless.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void*) {
  static constexpr unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, http11, sizeof http11, in, in_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// An encrypted key would make OpenSSL ask for its passphrase on the
// terminal; refuse it instead.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

std::string format_time(const ASN1_TIME* time) {
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) {
    return "?";
  }
  ASN1_TIME_print(out, time);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  std::string text(data, static_cast<std::size_t>(size > 0 ? size : 0));
  BIO_free(out);
  return text;
}

void check_validity(SSL_CTX* context, std::vector<std::string>& warnings) {
  X509* certificate = SSL_CTX_get0_certificate(context);
  if (certificate == nullptr) {
    return;
  }
  if (X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0) {
    warnings.push_back("tls-cert: the certificate expired on " +
                       format_time(X509_get0_notAfter(certificate)) + "; clients will refuse it");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0) {
    warnings.push_back("tls-cert: the certificate is not valid before " +
                       format_time(X509_get0_notBefore(certificate)));
  }
}

}  // namespace

tls_context::tls_context(std::string cert_path, std::string key_path, context_ptr context)
    : cert_path_(std::move(cert_path)),
      key_path_(std::move(key_path)),
      current_(std::move(context)) {}

std::variant<tls_context::context_ptr, core::config_error> tls_context::make_context(
    const std::string& cert_path, const std::string& key_path, std::vector<std::string>& warnings) {
  ERR_clear_error();
  context_ptr context{SSL_CTX_new(TLS_server_method()), SSL_CTX_free};
  if (!context) {
    return core::config_error{"tls-cert", "cannot make a TLS context: " + openssl_reason()};
  }
  SSL_CTX* raw = context.get();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(
      raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle connections give their record buffers back.
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(raw, tls12_ciphers) != 1 ||
      SSL_CTX_set1_groups_list(raw, key_exchange_groups) != 1) {
    return core::config_error{"tls-cert", "OpenSSL refused the cipher list: " + openssl_reason()};
  }
  SSL_CTX_set_alpn_select_cb(raw, select_alpn, nullptr);
  SSL_CTX_set_default_passwd_cb(raw, no_passphrase);
  static constexpr unsigned char session_context[] = "herald";
  SSL_CTX_set_session_id_context(raw, session_context, sizeof session_context - 1);

  if (SSL_CTX_use_certificate_chain_file(raw, cert_path.c_str()) != 1) {
    return core::config_error{"tls-cert", "no PEM certificate could be read from '" + cert_path +
                                              "': " + openssl_reason()};
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return core::config_error{"tls-key",
                              "no PEM private key (without a passphrase) could be read "
                              "from '" +
                                  key_path + "': " + openssl_reason()};
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    ERR_clear_error();
    return core::config_error{
        "tls-key", "'" + key_path + "' is not the key of the certificate in '" + cert_path + "'"};
  }
  check_validity(raw, warnings);
  return context;
}

std::variant<std::shared_ptr<tls_context>, core::config_error> tls_context::load(
    const core::settings& settings, std::vector<std::string>& warnings) {
  auto made = make_context(settings.tls_cert, settings.tls_key, warnings);
  if (auto* error = std::get_if<core::config_error>(&made)) {
    return std::move(*error);
  }
  return std::shared_ptr<tls_context>(
      new tls_context(settings.tls_cert, settings.tls_key, std::move(std::get<context_ptr>(made))));
}

tls_context::outcome tls_context::check(const core::settings& settings) {
  outcome result;
  auto made = make_context(settings.tls_cert, settings.tls_key, result.warnings);
  if (auto* error = std::get_if<core::config_error>(&made)) {
    result.error = std::move(*error);
  }
  return result;
}

tls_context::outcome tls_context::reload() {
  outcome result;
  auto made = make_context(cert_path_, key_path_, result.warnings);
  if (auto* error = std::get_if<core::config_error>(&made)) {
    result.error = std::move(*error);
    return result;
  }
  const std::lock_guard lock(mutex_);
  current_ = std::move(std::get<context_ptr>(made));
  return result;
}

SSL* tls_context::new_session() const {
  context_ptr context;
  {
    const std::lock_guard lock(mutex_);
    context = current_;
  }
  // The SSL object holds its own reference to the context.
  return SSL_new(context.get());
}

}  // namespace herald::net
