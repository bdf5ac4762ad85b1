// Cryptographically secure randomness (OpenSSL RAND_bytes) and UUIDs built from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vault {

// n random bytes from the CSPRNG. Aborts the process if the CSPRNG fails (it never does on Linux
// with a seeded kernel pool; continuing without randomness would be worse).
std::string RandomBytes(size_t n);
// n random bytes for nonces and identifiers, taken from a per-thread buffer of CSPRNG output that
// one RAND_bytes call refills (far cheaper per call). Keys use RandomBytes, which keeps no copy.
std::string BufferedRandomBytes(size_t n);
void BufferedRandom(unsigned char* out, size_t n);
// RFC 4122 version-4 UUID, lower-case hex with dashes.
std::string NewUuid();
// RFC 9562 version-7 UUID (same text form): the first 48 bits are unix_ms, big-endian, the other
// 74 are random. Ids made close in time sort next to each other.
std::string NewTimeOrderedUuid(int64_t unix_ms);
// n random characters from [A-Za-z0-9]: RandomAlnum for secrets (tokens), BufferedRandomAlnum for
// names and identifiers.
std::string RandomAlnum(size_t n);
std::string BufferedRandomAlnum(size_t n);

}  // namespace vault
