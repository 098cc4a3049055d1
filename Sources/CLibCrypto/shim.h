#ifndef CAMKIT_CLIBCRYPTO_SHIM_H
#define CAMKIT_CLIBCRYPTO_SHIM_H
/* OpenSSL's digests (EVP), for the SHA-256 of weight files. */
#include <openssl/evp.h>
#endif
