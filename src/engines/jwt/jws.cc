#include "engines/jwt/jws.h"

#include <array>

#include "util/json.h"

namespace vault::engines::jwt {
namespace {

using crypto::Digest;
using crypto::PublicKeyType;

struct AlgInfo {
  Alg alg;
  const char* name;
};
constexpr std::array<AlgInfo, 10> kAlgs = {{
    {Alg::kRS256, "RS256"},
    {Alg::kRS384, "RS384"},
    {Alg::kRS512, "RS512"},
    {Alg::kPS256, "PS256"},
    {Alg::kPS384, "PS384"},
    {Alg::kPS512, "PS512"},
    {Alg::kES256, "ES256"},
    {Alg::kES384, "ES384"},
    {Alg::kES512, "ES512"},
    {Alg::kEdDSA, "EdDSA"},
}};

Digest DigestOf(Alg a) {
  switch (a) {
    case Alg::kRS384:
    case Alg::kPS384:
    case Alg::kES384:
      return Digest::kSha384;
    case Alg::kRS512:
    case Alg::kPS512:
    case Alg::kES512:
      return Digest::kSha512;
    default:
      return Digest::kSha256;
  }
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

Status Malformed(const std::string& why) { return InvalidArgument("malformed token: " + why); }

}  // namespace

const char* AlgName(Alg alg) {
  for (const auto& a : kAlgs)
    if (a.alg == alg) return a.name;
  return "";
}

std::optional<Alg> AlgFromName(std::string_view name) {
  for (const auto& a : kAlgs)
    if (name == a.name) return a.alg;
  return std::nullopt;
}

const std::vector<std::string>& AllAlgNames() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    for (const auto& a : kAlgs) v.push_back(a.name);
    return v;
  }();
  return k;
}

bool KeyFitsAlg(const crypto::PublicKey& key, Alg alg) {
  switch (alg) {
    case Alg::kRS256:
    case Alg::kRS384:
    case Alg::kRS512:
    case Alg::kPS256:
    case Alg::kPS384:
    case Alg::kPS512:
      return key.type() == PublicKeyType::kRsa && key.bits() >= kMinRsaBits;
    case Alg::kES256:
      return key.type() == PublicKeyType::kEcP256;
    case Alg::kES384:
      return key.type() == PublicKeyType::kEcP384;
    case Alg::kES512:
      return key.type() == PublicKeyType::kEcP521;
    case Alg::kEdDSA:
      return key.type() == PublicKeyType::kEd25519;
  }
  return false;
}

std::string UnsupportedAlgMessage(std::string_view alg_name) {
  bool plain = !alg_name.empty() && alg_name.size() <= 16;
  for (char c : alg_name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      plain = false;
  }
  if (!plain) return "unsupported signing algorithm";
  return "unsupported signing algorithm \"" + std::string(alg_name) + "\"";
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return InvalidArgument("invalid base64url length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Sextet(c);
    if (v < 0) return InvalidArgument("invalid base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

Result<Jws> ParseCompact(std::string_view token) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return Malformed("compact JWS format must have three parts");
  const std::string_view header64 = token.substr(0, dot1);
  const std::string_view payload64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature64 = token.substr(dot2 + 1);

  auto header_bytes = Base64UrlDecode(header64);
  if (!header_bytes.ok()) return Malformed("the header is not valid base64url");
  auto header = ParseJson(*header_bytes);
  if (!header.ok() || !header->is_object()) return Malformed("the header is not a JSON object");
  const Json& h = *header;
  if (!h.contains("alg") || !h["alg"].is_string() || h["alg"].get<std::string>().empty())
    return Malformed("the header has no \"alg\"");
  Jws jws;
  jws.alg_name = h["alg"].get<std::string>();
  jws.alg = AlgFromName(jws.alg_name);
  if (h.contains("kid")) {
    if (!h["kid"].is_string()) return Malformed("the header's \"kid\" is not a string");
    jws.kid = h["kid"].get<std::string>();
  }
  // Extensions the recipient must understand (RFC 7515 section 4.1.11): none is supported, so a
  // token that requires one cannot be accepted (go-jose refuses them the same way).
  if (h.contains("crit")) return Malformed("unsupported critical header parameters (crit)");

  auto signature = Base64UrlDecode(signature64);
  if (!signature.ok()) return Malformed("the signature is not valid base64url");
  if (jws.alg_name == "none" || signature->empty()) return InvalidArgument("token must be signed");
  auto payload = Base64UrlDecode(payload64);
  if (!payload.ok()) return Malformed("the payload is not valid base64url");

  jws.signing_input = std::string(token.substr(0, dot2));
  jws.payload = std::move(*payload);
  jws.signature = std::move(*signature);
  return jws;
}

bool VerifyWithKey(const Jws& jws, const crypto::PublicKey& key) {
  if (!jws.alg || !KeyFitsAlg(key, *jws.alg)) return false;
  const Alg alg = *jws.alg;
  switch (alg) {
    case Alg::kRS256:
    case Alg::kRS384:
    case Alg::kRS512:
      return key.VerifyRsaPkcs1(DigestOf(alg), jws.signing_input, jws.signature);
    case Alg::kPS256:
    case Alg::kPS384:
    case Alg::kPS512:
      return key.VerifyRsaPss(DigestOf(alg), jws.signing_input, jws.signature);
    case Alg::kES256:
    case Alg::kES384:
    case Alg::kES512:
      return key.VerifyEcdsaP1363(DigestOf(alg), jws.signing_input, jws.signature);
    case Alg::kEdDSA:
      return key.VerifyEd25519(jws.signing_input, jws.signature);
  }
  return false;
}

}  // namespace vault::engines::jwt
