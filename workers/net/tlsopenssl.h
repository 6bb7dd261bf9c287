#pragma once

#include "net/tls.h"

#include <openssl/types.h>

// OpenSSL-level helpers of tls.cpp, for http.cpp's handshake callbacks. Internal to workers/net.
namespace quire::net {

QByteArray fingerprintOf(const X509 *cert);        // canonical SHA-256 fingerprint
CertificateInfo certificateInfoOf(const X509 *cert);

} // namespace quire::net
