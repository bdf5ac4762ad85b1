// Cryptographically secure randomness (OpenSSL RAND_bytes) and UUIDs built from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vault {

// n random bytes from the CSPRNG. Aborts the process if the CSPRNG fails (it never does on Linux
// with a seeded kernel pool; continuing without randomness would be worse).
std::string RandomBytes(size_t n);
// RFC 4122 version-4 UUID, lower-case hex with dashes.
std::string NewUuid();
// RFC 9562 version-7 UUID (same text form): the first 48 bits are unix_ms, big-endian, the other
// 74 are random. Ids made close in time sort next to each other.
std::string NewTimeOrderedUuid(int64_t unix_ms);
// n random characters from [A-Za-z0-9].
std::string RandomAlnum(size_t n);

}  // namespace vault
