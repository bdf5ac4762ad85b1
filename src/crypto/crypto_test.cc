// Unit tests for src/crypto: known-answer vectors, tamper detection, parameter checks, and
// Shamir split/combine checked against an independent table-driven GF(2^8) reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/shamir.h"
#include "util/encoding.h"
#include "util/random.h"

namespace vault::crypto {
namespace {

std::string Unhex(std::string_view hex) {
  Result<std::string> r = HexDecode(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? r.value() : std::string();
}

// ---------------------------------------------------------------------------------------------
// SHA-256, HMAC-SHA256, constant-time comparison.

TEST(Sha256Test, KnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, BinaryInputWithNulBytes) {
  const std::string data("a\0b", 3);
  EXPECT_EQ(Sha256(data).size(), 32u);
  EXPECT_NE(Sha256(data), Sha256("a"));
}

TEST(HmacSha256Test, Rfc4231TestCase1) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, Rfc4231TestCase6KeyLongerThanBlock) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  // Well-known value of HMAC-SHA256 with an empty key over an empty message.
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(ConstantTimeEqualsTest, Basics) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM.

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

// "The Galois/Counter Mode of Operation (GCM)", McGrew & Viega, test cases 13-16 (256-bit key).
const GcmVector kGcmVectors[] = {
    {"TestCase13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"TestCase14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"TestCase15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"TestCase16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcmTest, NistGcmSpecVectorsSealAndOpen) {
  for (const GcmVector& v : kGcmVectors) {
    SCOPED_TRACE(v.name);
    const std::string key = Unhex(v.key), nonce = Unhex(v.nonce), pt = Unhex(v.plaintext),
                      aad = Unhex(v.aad);
    const std::string expected = Unhex(v.ciphertext) + Unhex(v.tag);
    Result<std::string> sealed = AesGcmSeal(key, nonce, pt, aad);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(HexEncode(*sealed), HexEncode(expected));
    Result<std::string> opened = AesGcmOpen(key, nonce, expected, aad);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, pt);
  }
}

TEST(AesGcmTest, OutputIsCiphertextPlusTag) {
  const std::string key = RandomBytes(kAesKeySize), nonce = RandomBytes(kGcmNonceSize);
  for (size_t n : {0u, 1u, 15u, 16u, 17u, 1000u}) {
    const std::string pt = RandomBytes(n);
    Result<std::string> sealed = AesGcmSeal(key, nonce, pt, "aad");
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(sealed->size(), n + kGcmTagSize);
    Result<std::string> opened = AesGcmOpen(key, nonce, *sealed, "aad");
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(*opened, pt);
  }
}

class AesGcmTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> s = AesGcmSeal(key_, nonce_, plaintext_, aad_);
    ASSERT_TRUE(s.ok());
    sealed_ = *s;
  }
  void ExpectRejected(std::string_view key, std::string_view nonce, std::string_view sealed,
                      std::string_view aad) {
    Result<std::string> r = AesGcmOpen(key, nonce, sealed, aad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }

  const std::string key_ = RandomBytes(kAesKeySize);
  const std::string nonce_ = RandomBytes(kGcmNonceSize);
  const std::string plaintext_ = "the barrier keyring, 32 bytes+!!";
  const std::string aad_ = "core/keyring";
  std::string sealed_;
};

TEST_F(AesGcmTamperTest, EveryFlippedCiphertextOrTagByteIsRejected) {
  for (size_t i = 0; i < sealed_.size(); ++i) {
    SCOPED_TRACE(i < plaintext_.size() ? "ciphertext byte" : "tag byte");
    std::string tampered = sealed_;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    ExpectRejected(key_, nonce_, tampered, aad_);
  }
}

TEST_F(AesGcmTamperTest, FlippedAadIsRejected) {
  for (size_t i = 0; i < aad_.size(); ++i) {
    std::string aad = aad_;
    aad[i] = static_cast<char>(aad[i] ^ 0x80);
    ExpectRejected(key_, nonce_, sealed_, aad);
  }
  ExpectRejected(key_, nonce_, sealed_, "");
  ExpectRejected(key_, nonce_, sealed_, aad_ + "x");
}

TEST_F(AesGcmTamperTest, WrongKeyOrNonceIsRejected) {
  std::string key = key_;
  key[0] = static_cast<char>(key[0] ^ 1);
  ExpectRejected(key, nonce_, sealed_, aad_);
  std::string nonce = nonce_;
  nonce[11] = static_cast<char>(nonce[11] ^ 1);
  ExpectRejected(key_, nonce, sealed_, aad_);
}

TEST_F(AesGcmTamperTest, TruncatedOrExtendedInputIsRejected) {
  ExpectRejected(key_, nonce_, sealed_.substr(0, sealed_.size() - 1), aad_);
  ExpectRejected(key_, nonce_, sealed_.substr(1), aad_);
  ExpectRejected(key_, nonce_, sealed_ + "x", aad_);
  ExpectRejected(key_, nonce_, sealed_.substr(0, kGcmTagSize - 1), aad_);
  ExpectRejected(key_, nonce_, "", aad_);
}

TEST_F(AesGcmTamperTest, FailureMessageHasNoKeyMaterial) {
  std::string tampered = sealed_;
  tampered[0] = static_cast<char>(tampered[0] ^ 1);
  Result<std::string> r = AesGcmOpen(key_, nonce_, tampered, aad_);
  ASSERT_FALSE(r.ok());
  const std::string msg = r.status().ToString();
  EXPECT_EQ(msg.find(key_), std::string::npos);
  EXPECT_EQ(msg.find(HexEncode(key_)), std::string::npos);
  EXPECT_EQ(msg.find(plaintext_), std::string::npos);
}

TEST(AesGcmTest, WrongKeySizesAreInvalidArgument) {
  const std::string nonce(kGcmNonceSize, '\0');
  for (size_t n : {0u, 1u, 16u, 24u, 31u, 33u, 64u}) {
    SCOPED_TRACE(n);
    const std::string key(n, 'k');
    Result<std::string> s = AesGcmSeal(key, nonce, "pt", "");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    Result<std::string> o = AesGcmOpen(key, nonce, std::string(32, 'c'), "");
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(AesGcmTest, WrongNonceSizesAreInvalidArgument) {
  const std::string key(kAesKeySize, 'k');
  for (size_t n : {0u, 8u, 11u, 13u, 16u}) {
    SCOPED_TRACE(n);
    const std::string nonce(n, 'n');
    Result<std::string> s = AesGcmSeal(key, nonce, "pt", "");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    Result<std::string> o = AesGcmOpen(key, nonce, std::string(32, 'c'), "");
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(AesGcmTest, DifferentNoncesGiveDifferentCiphertexts) {
  const std::string key = RandomBytes(kAesKeySize);
  Result<std::string> a = AesGcmSeal(key, std::string(12, 'a'), "same plaintext", "");
  Result<std::string> b = AesGcmSeal(key, std::string(12, 'b'), "same plaintext", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

// AesGcmKey reuses prepared contexts: every call must equal the one-shot functions, including
// after a failed authentication (a context in an unknown state is never reused) and across threads.
TEST(AesGcmKeyTest, MatchesOneShotFunctionsOnNistVectorsRepeatedly) {
  for (const GcmVector& v : kGcmVectors) {
    SCOPED_TRACE(v.name);
    const std::string key = Unhex(v.key), nonce = Unhex(v.nonce), pt = Unhex(v.plaintext),
                      aad = Unhex(v.aad);
    const std::string expected = Unhex(v.ciphertext) + Unhex(v.tag);
    auto k = AesGcmKey::Create(key);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    for (int round = 0; round < 3; ++round) {
      Result<std::string> sealed = (*k)->Seal(nonce, pt, aad);
      ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
      EXPECT_EQ(HexEncode(*sealed), HexEncode(expected));
      Result<std::string> opened = (*k)->Open(nonce, expected, aad);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_EQ(*opened, pt);
    }
  }
}

TEST(AesGcmKeyTest, TamperingIsRejectedAndLaterCallsStillWork) {
  const std::string key = RandomBytes(kAesKeySize), nonce(12, 'n');
  auto k = AesGcmKey::Create(key);
  ASSERT_TRUE(k.ok());
  Result<std::string> sealed = (*k)->Seal(nonce, "secret value", "path/a");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*AesGcmOpen(key, nonce, *sealed, "path/a"), "secret value");
  std::string bad = *sealed;
  bad[0] ^= 1;
  EXPECT_FALSE((*k)->Open(nonce, bad, "path/a").ok());
  EXPECT_FALSE((*k)->Open(nonce, *sealed, "path/b").ok());
  EXPECT_FALSE((*k)->Open(nonce, sealed->substr(0, 10), "path/a").ok());
  EXPECT_FALSE((*k)->Open("short", *sealed, "path/a").ok());
  Result<std::string> again = (*k)->Open(nonce, *sealed, "path/a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "secret value");
  EXPECT_FALSE(AesGcmKey::Create("too short").ok());
}

TEST(AesGcmKeyTest, ConcurrentCallsAgree) {
  const std::string key = RandomBytes(kAesKeySize);
  auto k = AesGcmKey::Create(key);
  ASSERT_TRUE(k.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string nonce = RandomBytes(kGcmNonceSize);
        std::string pt = "thread " + std::to_string(t) + " message " + std::to_string(i);
        auto sealed = (*k)->Seal(nonce, pt, "aad");
        if (!sealed.ok()) {
          ++failures;
          continue;
        }
        auto opened = AesGcmOpen(key, nonce, *sealed, "aad");
        auto opened2 = (*k)->Open(nonce, *sealed, "aad");
        if (!opened.ok() || *opened != pt || !opened2.ok() || *opened2 != pt) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// Shamir: an independent reference implementation using the classic log/exp tables of
// GF(2^8) with generator 3 (the textbook approach, not constant-time; test use only).

class RefField {
 public:
  RefField() {
    uint8_t x = 1;
    for (int i = 0; i < 255; ++i) {
      exp_[i] = x;
      log_[x] = static_cast<uint8_t>(i);
      // x *= 3, i.e. x ^ xtime(x) with the AES polynomial 0x11b.
      const uint8_t xtime = static_cast<uint8_t>((x << 1) ^ ((x & 0x80) ? 0x1b : 0));
      x = static_cast<uint8_t>(x ^ xtime);
    }
  }
  uint8_t Mul(uint8_t a, uint8_t b) const {
    if (a == 0 || b == 0) return 0;
    return exp_[(log_[a] + log_[b]) % 255];
  }
  uint8_t Div(uint8_t a, uint8_t b) const {
    if (a == 0) return 0;
    return exp_[(log_[a] + 255 - log_[b]) % 255];
  }
  // Evaluates coefficients (constant first) at x, term by term.
  uint8_t Eval(const std::vector<uint8_t>& coefficients, uint8_t x) const {
    uint8_t result = 0, power = 1;
    for (uint8_t c : coefficients) {
      result ^= Mul(c, power);
      power = Mul(power, x);
    }
    return result;
  }
  uint8_t InterpolateAtZero(const std::vector<uint8_t>& xs, const std::vector<uint8_t>& ys) const {
    uint8_t result = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      uint8_t num = 1, den = 1;
      for (size_t j = 0; j < xs.size(); ++j) {
        if (i == j) continue;
        num = Mul(num, xs[j]);
        den = Mul(den, xs[i] ^ xs[j]);
      }
      result ^= Mul(ys[i], Div(num, den));
    }
    return result;
  }

 private:
  std::array<uint8_t, 256> exp_{};
  std::array<uint8_t, 256> log_{};
};

std::string RefCombine(const std::vector<std::string>& shares) {
  static const RefField field;
  const size_t n = shares[0].size() - 1;
  std::vector<uint8_t> xs;
  for (const std::string& s : shares) xs.push_back(static_cast<uint8_t>(s[n]));
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    std::vector<uint8_t> ys;
    for (const std::string& s : shares) ys.push_back(static_cast<uint8_t>(s[i]));
    out[i] = static_cast<char>(field.InterpolateAtZero(xs, ys));
  }
  return out;
}

TEST(ShamirTest, RefFieldIsAField) {
  // Sanity of the reference itself: 0x53 * 0xca = 1 in the AES field (FIPS-197 section 4.2).
  const RefField f;
  EXPECT_EQ(f.Mul(0x53, 0xca), 1);
  EXPECT_EQ(f.Mul(0x57, 0x83), 0xc1);  // FIPS-197 example
  EXPECT_EQ(f.Mul(0x57, 0x13), 0xfe);  // FIPS-197 example
}

TEST(ShamirTest, HandComputedTwoOfThreeCombines) {
  // Secret "Hi!" with fixed slopes; shares at x = 1, 2, 0xf0 computed by the reference field.
  const RefField f;
  const std::string secret = "Hi!";
  const std::vector<uint8_t> slopes = {0x01, 0x8e, 0xff};
  const std::vector<uint8_t> xs = {1, 2, 0xf0};
  std::vector<std::string> shares(3, std::string(secret.size() + 1, '\0'));
  for (size_t s = 0; s < 3; ++s) {
    for (size_t i = 0; i < secret.size(); ++i) {
      const std::vector<uint8_t> poly = {static_cast<uint8_t>(secret[i]), slopes[i]};
      shares[s][i] = static_cast<char>(f.Eval(poly, xs[s]));
    }
    shares[s][secret.size()] = static_cast<char>(xs[s]);
  }
  // A couple of bytes worked out on paper: 'H' (0x48) + 0x01*1 = 0x49; 'H' + 0x01*2 = 0x4a.
  EXPECT_EQ(static_cast<uint8_t>(shares[0][0]), 0x49);
  EXPECT_EQ(static_cast<uint8_t>(shares[1][0]), 0x4a);

  for (const auto& subset :
       std::vector<std::vector<int>>{{0, 1}, {0, 2}, {1, 2}, {0, 1, 2}, {2, 1}, {2, 0, 1}}) {
    std::vector<std::string> chosen;
    for (int i : subset) chosen.push_back(shares[i]);
    Result<std::string> r = ShamirCombine(chosen);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, secret);
  }
}

TEST(ShamirTest, SplitSharesAgreeWithReferenceInterpolation) {
  const std::string secret = RandomBytes(32);
  Result<std::vector<std::string>> shares = ShamirSplit(secret, 5, 3);
  ASSERT_TRUE(shares.ok());
  EXPECT_EQ(RefCombine({(*shares)[0], (*shares)[2], (*shares)[4]}), secret);
  EXPECT_EQ(RefCombine(*shares), secret);
}

TEST(ShamirTest, ShareFormat) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  Result<std::vector<std::string>> shares = ShamirSplit(secret, 10, 4);
  ASSERT_TRUE(shares.ok());
  ASSERT_EQ(shares->size(), 10u);
  std::set<uint8_t> xs;
  for (const std::string& s : *shares) {
    ASSERT_EQ(s.size(), secret.size() + 1);
    const auto x = static_cast<uint8_t>(s.back());
    EXPECT_NE(x, 0);
    xs.insert(x);
    EXPECT_EQ(s.find(secret), std::string::npos);
  }
  EXPECT_EQ(xs.size(), 10u) << "x coordinates must be distinct";
}

TEST(ShamirTest, XCoordinatesAreRandomised) {
  // With 255 possible values, two 5-share splits picking identical x sets is ~1 in 10^10.
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    Result<std::vector<std::string>> shares = ShamirSplit("k", 5, 2);
    ASSERT_TRUE(shares.ok());
    std::string xs;
    for (const std::string& s : *shares) xs.push_back(s.back());
    seen.insert(xs);
  }
  EXPECT_GT(seen.size(), 1u);
}

TEST(ShamirTest, AllXCoordinatesUsedWith255Parts) {
  Result<std::vector<std::string>> shares = ShamirSplit("secret", 255, 2);
  ASSERT_TRUE(shares.ok());
  std::set<uint8_t> xs;
  for (const std::string& s : *shares) xs.insert(static_cast<uint8_t>(s.back()));
  EXPECT_EQ(xs.size(), 255u);
  EXPECT_EQ(xs.count(0), 0u);
  Result<std::string> r = ShamirCombine({(*shares)[17], (*shares)[254]});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "secret");
}

// Every subset of size >= threshold recovers the secret; for small configurations this is
// exhaustive over all 2^parts subsets.
TEST(ShamirTest, EverySubsetAtLeastThresholdRecovers) {
  for (int parts = 2; parts <= 7; ++parts) {
    for (int threshold = 2; threshold <= parts; ++threshold) {
      SCOPED_TRACE(testing::Message() << threshold << "-of-" << parts);
      const std::string secret = RandomBytes(1 + static_cast<size_t>(parts * 3));
      Result<std::vector<std::string>> shares = ShamirSplit(secret, parts, threshold);
      ASSERT_TRUE(shares.ok());
      for (unsigned mask = 1; mask < (1u << parts); ++mask) {
        std::vector<std::string> subset;
        for (int i = 0; i < parts; ++i) {
          if (mask & (1u << i)) subset.push_back((*shares)[i]);
        }
        if (static_cast<int>(subset.size()) < threshold) continue;
        Result<std::string> r = ShamirCombine(subset);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_EQ(*r, secret) << "mask " << mask;
      }
    }
  }
}

TEST(ShamirTest, RandomThresholdsAndParts) {
  for (int iter = 0; iter < 200; ++iter) {
    const uint8_t r0 = static_cast<uint8_t>(RandomBytes(1)[0]);
    const uint8_t r1 = static_cast<uint8_t>(RandomBytes(1)[0]);
    const int parts = 2 + r0 % 30;
    const int threshold = 2 + r1 % (parts - 1);
    SCOPED_TRACE(testing::Message() << threshold << "-of-" << parts);
    const std::string secret = RandomBytes(1 + r0 % 64);
    Result<std::vector<std::string>> shares = ShamirSplit(secret, parts, threshold);
    ASSERT_TRUE(shares.ok());
    ASSERT_EQ(static_cast<int>(shares->size()), parts);
    // A random subset of random size >= threshold, in random order.
    std::vector<std::string> pool = *shares;
    for (size_t i = pool.size() - 1; i > 0; --i) {
      std::swap(pool[i], pool[static_cast<uint8_t>(RandomBytes(1)[0]) % (i + 1)]);
    }
    const int take = threshold + static_cast<uint8_t>(RandomBytes(1)[0]) % (parts - threshold + 1);
    pool.resize(static_cast<size_t>(take));
    Result<std::string> r = ShamirCombine(pool);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, secret);
    EXPECT_EQ(RefCombine(pool), secret);
  }
}

TEST(ShamirTest, FewerThanThresholdGivesAWrongValue) {
  // With threshold t, t-1 shares interpolate a polynomial of lower degree: the result is
  // (with overwhelming probability for a 32-byte secret) not the secret.
  for (int threshold = 3; threshold <= 6; ++threshold) {
    const std::string secret = RandomBytes(32);
    Result<std::vector<std::string>> shares = ShamirSplit(secret, 6, threshold);
    ASSERT_TRUE(shares.ok());
    std::vector<std::string> subset(shares->begin(), shares->begin() + (threshold - 1));
    Result<std::string> r = ShamirCombine(subset);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), secret.size());
    EXPECT_NE(*r, secret);
  }
}

TEST(ShamirTest, SplitRejectsBadParameters) {
  struct Case {
    std::string secret;
    int parts, threshold;
  };
  for (const Case& c : std::vector<Case>{{"s", 3, 4},
                                         {"s", 256, 2},
                                         {"s", 3, 1},
                                         {"s", 3, 0},
                                         {"s", 1, 1},
                                         {"s", -1, -2},
                                         {"s", 300, 256},
                                         {"", 3, 2}}) {
    SCOPED_TRACE(testing::Message() << c.parts << "/" << c.threshold << "/" << c.secret.size());
    Result<std::vector<std::string>> r = ShamirSplit(c.secret, c.parts, c.threshold);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ShamirTest, SplitBoundaryParameters) {
  for (auto [parts, threshold] : std::vector<std::pair<int, int>>{{2, 2}, {255, 255}, {255, 2}}) {
    Result<std::vector<std::string>> r = ShamirSplit("x", parts, threshold);
    ASSERT_TRUE(r.ok());
    std::vector<std::string> subset(r->begin(), r->begin() + threshold);
    Result<std::string> c = ShamirCombine(subset);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(*c, "x");
  }
}

TEST(ShamirTest, CombineRejectsBadInput) {
  auto expect_invalid = [](const std::vector<std::string>& shares, const char* why) {
    SCOPED_TRACE(why);
    Result<std::string> r = ShamirCombine(shares);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  };
  expect_invalid({}, "no shares");
  expect_invalid({"ab"}, "one share");
  expect_invalid({"a\x01", "ab\x02"}, "unequal lengths");
  expect_invalid({"\x01", "\x02"}, "too short");
  expect_invalid({"", ""}, "empty");
  expect_invalid({"ab\x05", "cd\x05"}, "duplicate x");
  expect_invalid({"ab\x05", "cd\x06", "ef\x05"}, "duplicate x among three");
}

TEST(ShamirTest, GarbageSharesDoNotCrash) {
  for (int i = 0; i < 50; ++i) {
    std::vector<std::string> shares;
    const size_t len = 2 + static_cast<uint8_t>(RandomBytes(1)[0]) % 16;
    for (int j = 0; j < 4; ++j) shares.push_back(RandomBytes(len));
    Result<std::string> r = ShamirCombine(shares);  // ok or duplicate x; never a crash
    if (r.ok()) {
      EXPECT_EQ(r->size(), len - 1);
    }
  }
}

}  // namespace
}  // namespace vault::crypto

namespace vault::crypto {
namespace {
TEST(HmacKey, MatchesOneShotHmac) {
  HmacSha256Key key("a secret salt");
  for (std::string data : {std::string(), std::string("token"), std::string(1000, 'x')}) {
    EXPECT_EQ(key.Mac(data), HmacSha256("a secret salt", data));
  }
  EXPECT_NE(key.Mac("a"), key.Mac("b"));
}

// Keys of every length class: empty, short, exactly one block, longer than a block (hashed first).
TEST(HmacKey, MatchesOneShotHmacForAllKeyLengths) {
  for (size_t n : {0u, 1u, 32u, 63u, 64u, 65u, 200u}) {
    std::string k = RandomBytes(n);
    HmacSha256Key key(k);
    for (std::string data : {std::string(), std::string("hvs.abc"), std::string(129, 'y')}) {
      EXPECT_EQ(HexEncode(key.Mac(data)), HexEncode(HmacSha256(k, data))) << n;
    }
  }
}
}  // namespace
}  // namespace vault::crypto
