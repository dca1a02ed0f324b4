#ifndef CLONECTL_COPENSSL_SHIM_H
#define CLONECTL_COPENSSL_SHIM_H
// Only the OpenSSL 3 API: deprecated calls are hidden so they cannot creep in.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// OPENSSL_INIT_NO_ATEXIT is a macro of a 64-bit constant; give Swift a function.
static inline int clonectl_openssl_init(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
#endif
