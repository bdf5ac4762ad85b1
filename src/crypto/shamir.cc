#include "crypto/shamir.h"

#include <openssl/crypto.h>

#include <array>
#include <cstdint>

#include "util/random.h"

namespace vault::crypto {
namespace {

// GF(2^8) arithmetic with the AES reduction polynomial x^8 + x^4 + x^3 + x + 1 (0x11b).
// Every operation runs the same instruction sequence whatever its operands: no table
// look-ups indexed by secret data and no data-dependent branches.

uint8_t GfAdd(uint8_t a, uint8_t b) { return a ^ b; }

uint8_t GfMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    // mask is 0xff when the low bit of b is set, else 0x00.
    const uint8_t mask = static_cast<uint8_t>(-(b & 1));
    product ^= a & mask;
    const uint8_t carry = static_cast<uint8_t>(-(a >> 7));
    a = static_cast<uint8_t>((a << 1) ^ (0x1b & carry));
    b >>= 1;
  }
  return product;
}

// a^254 = a^-1 for a != 0 (and 0 for a == 0), by a fixed square-and-multiply chain.
uint8_t GfInverse(uint8_t a) {
  uint8_t result = 1;
  uint8_t power = a;  // a^(2^i)
  // 254 = 0b11111110: multiply in a^2, a^4, ..., a^128.
  for (int i = 1; i < 8; ++i) {
    power = GfMul(power, power);
    result = GfMul(result, power);
  }
  return result;
}

uint8_t GfDiv(uint8_t a, uint8_t b) { return GfMul(a, GfInverse(b)); }

// Evaluates the polynomial with the given coefficients (constant term first) at x (Horner).
uint8_t Evaluate(const std::string& coefficients, uint8_t x) {
  uint8_t acc = 0;
  for (size_t i = coefficients.size(); i-- > 0;) {
    acc = GfAdd(GfMul(acc, x), static_cast<uint8_t>(coefficients[i]));
  }
  return acc;
}

// Lagrange interpolation of the points (xs[i], ys[i]) evaluated at x = 0.
uint8_t InterpolateAtZero(const std::vector<uint8_t>& xs, const std::vector<uint8_t>& ys) {
  uint8_t result = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    uint8_t basis = 1;
    for (size_t j = 0; j < xs.size(); ++j) {
      if (i == j) continue;
      // (0 - x_j) / (x_i - x_j); subtraction is xor in characteristic 2.
      basis = GfMul(basis, GfDiv(xs[j], GfAdd(xs[i], xs[j])));
    }
    result = GfAdd(result, GfMul(ys[i], basis));
  }
  return result;
}

// A uniformly random value in [0, bound) for 1 <= bound <= 256, by rejection sampling.
int RandomBelow(int bound) {
  const int limit = 256 - (256 % bound);  // largest multiple of bound that fits in a byte
  while (true) {
    const int r = static_cast<uint8_t>(RandomBytes(1)[0]);
    if (r < limit) return r % bound;
  }
}

}  // namespace

Result<std::vector<std::string>> ShamirSplit(std::string_view secret, int parts, int threshold) {
  if (parts < threshold) return InvalidArgument("parts cannot be less than threshold");
  if (parts > 255) return InvalidArgument("parts cannot exceed 255");
  if (threshold < 2) return InvalidArgument("threshold must be at least 2");
  if (threshold > 255) return InvalidArgument("threshold cannot exceed 255");
  if (secret.empty()) return InvalidArgument("cannot split an empty secret");

  // A random permutation of 1..255 (Fisher-Yates); the first `parts` entries are the shares'
  // x coordinates, so they are distinct and never 0.
  std::array<uint8_t, 255> xs;
  for (int i = 0; i < 255; ++i) xs[i] = static_cast<uint8_t>(i + 1);
  for (int i = 254; i > 0; --i) {
    const int j = RandomBelow(i + 1);
    std::swap(xs[i], xs[j]);
  }

  std::vector<std::string> shares(static_cast<size_t>(parts), std::string(secret.size() + 1, 0));
  for (int p = 0; p < parts; ++p) shares[p][secret.size()] = static_cast<char>(xs[p]);

  // One fresh polynomial of degree threshold-1 per secret byte, its constant term the byte.
  std::string coefficients;
  for (size_t idx = 0; idx < secret.size(); ++idx) {
    coefficients = RandomBytes(static_cast<size_t>(threshold));
    coefficients[0] = secret[idx];
    for (int p = 0; p < parts; ++p) {
      shares[p][idx] = static_cast<char>(Evaluate(coefficients, xs[p]));
    }
    OPENSSL_cleanse(coefficients.data(), coefficients.size());
  }
  return shares;
}

Result<std::string> ShamirCombine(const std::vector<std::string>& shares) {
  if (shares.size() < 2) {
    return InvalidArgument("less than two parts cannot be used to reconstruct the secret");
  }
  const size_t share_len = shares[0].size();
  if (share_len < 2) return InvalidArgument("parts must be at least two bytes");
  for (const std::string& share : shares) {
    if (share.size() != share_len) return InvalidArgument("all parts must be the same length");
  }

  std::vector<uint8_t> xs(shares.size());
  std::array<bool, 256> seen{};
  for (size_t i = 0; i < shares.size(); ++i) {
    const auto x = static_cast<uint8_t>(shares[i][share_len - 1]);
    if (seen[x]) return InvalidArgument("duplicate part detected");
    seen[x] = true;
    xs[i] = x;
  }

  std::string secret(share_len - 1, '\0');
  std::vector<uint8_t> ys(shares.size());
  for (size_t idx = 0; idx < secret.size(); ++idx) {
    for (size_t i = 0; i < shares.size(); ++i) ys[i] = static_cast<uint8_t>(shares[i][idx]);
    secret[idx] = static_cast<char>(InterpolateAtZero(xs, ys));
  }
  OPENSSL_cleanse(ys.data(), ys.size());
  return secret;
}

}  // namespace vault::crypto
