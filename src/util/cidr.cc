#include "util/cidr.h"

#include <arpa/inet.h>

#include <cstring>

#include "util/strings.h"

namespace vault {
namespace {

// The address as 16 bytes (IPv4 in the first four) and whether it is IPv6; false if unparsable.
bool ParseAddress(std::string_view text, std::array<uint8_t, 16>* out, bool* v6) {
  std::string s(text);
  out->fill(0);
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    std::memcpy(out->data(), &a4, 4);
    *v6 = false;
    return true;
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a6.s6_addr, kMapped, 12) == 0) {
      std::memcpy(out->data(), a6.s6_addr + 12, 4);
      *v6 = false;
      return true;
    }
    std::memcpy(out->data(), a6.s6_addr, 16);
    *v6 = true;
    return true;
  }
  return false;
}

bool PrefixEqual(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

Result<Cidr> Cidr::Parse(std::string_view raw) {
  std::string text = Trim(raw);
  auto bad = [&] { return InvalidArgument("invalid CIDR block \"" + text + "\""); };
  auto slash = text.find('/');
  std::string addr = text.substr(0, slash);
  Cidr c;
  if (!ParseAddress(addr, &c.addr_, &c.v6_)) return bad();
  // A mapped address written in IPv6 form keeps IPv6 prefix lengths; keep it simple: refuse it.
  if (!c.v6_ && addr.find(':') != std::string::npos) return bad();
  int max_bits = c.v6_ ? 128 : 32;
  c.bits_ = max_bits;
  if (slash != std::string::npos) {
    std::string n = text.substr(slash + 1);
    if (n.empty() || n.size() > 3) return bad();
    int bits = 0;
    for (char ch : n) {
      if (ch < '0' || ch > '9') return bad();
      bits = bits * 10 + (ch - '0');
    }
    if (bits > max_bits) return bad();
    c.bits_ = bits;
  }
  // Clear the host bits.
  for (int i = 0; i < 16; ++i) {
    int keep = std::max(0, std::min(8, c.bits_ - i * 8));
    c.addr_[i] &= static_cast<uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  return c;
}

bool Cidr::Contains(std::string_view address) const {
  std::array<uint8_t, 16> a;
  bool v6 = false;
  if (!ParseAddress(address, &a, &v6) || v6 != v6_) return false;
  return PrefixEqual(a, addr_, bits_);
}

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (v6_) {
    inet_ntop(AF_INET6, addr_.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, addr_.data(), buf, sizeof buf);
  }
  return std::string(buf) + "/" + std::to_string(bits_);
}

Result<std::vector<Cidr>> ParseCidrs(const std::vector<std::string>& texts) {
  std::vector<Cidr> out;
  for (const auto& t : texts) {
    for (const auto& part : Split(t, ',')) {
      if (Trim(part).empty()) continue;
      ASSIGN_OR_RETURN(Cidr c, Cidr::Parse(part));
      out.push_back(c);
    }
  }
  return out;
}

bool AddressAllowed(const std::vector<std::string>& cidrs, std::string_view address) {
  auto parsed = ParseCidrs(cidrs);
  if (!parsed.ok()) return false;
  if (parsed->empty()) return true;
  for (const auto& c : *parsed) {
    if (c.Contains(address)) return true;
  }
  return false;
}

bool CidrsSubset(const std::vector<std::string>& inner, const std::vector<std::string>& outer) {
  auto in = ParseCidrs(inner);
  auto out = ParseCidrs(outer);
  if (!in.ok() || !out.ok()) return false;
  for (const auto& c : *in) {
    // c lies within o when o contains c's first address and o's prefix is no longer than c's.
    std::string s = c.ToString();
    std::string first = s.substr(0, s.find('/'));
    int bits = std::stoi(s.substr(s.find('/') + 1));
    bool inside = false;
    for (const auto& o : *out) {
      std::string os = o.ToString();
      int obits = std::stoi(os.substr(os.find('/') + 1));
      if (obits <= bits && o.Contains(first)) inside = true;
    }
    if (!inside) return false;
  }
  return true;
}

}  // namespace vault
