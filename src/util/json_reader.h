// Typed reads of a stored JSON object's members that never throw, for the decoders of records
// this server keeps (token entries, leases, the keyring).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"

namespace vault {

// nlohmann's value() and get() throw on a member of another type (and converting 1e300 to an
// integer is undefined behaviour), which in a coroutine ends the process. Each getter here returns
// the member, or `def` when it is absent or null; a member of another type gives `def` and fails
// the reader, so that the decoder refuses the record instead of taking it half-read. Integers must
// be JSON integers (not 1.5 or "7") that fit an int64_t. A document that is not an object fails
// the reader.
class JsonReader {
 public:
  explicit JsonReader(const Json& j) : j_(j), ok_(j.is_object()) {}
  // False once a getter met a member of the wrong type, or when the document is no object.
  bool ok() const { return ok_; }
  bool Has(std::string_view key) const { return Find(key) != nullptr; }

  std::string String(std::string_view key, std::string def = "");
  int64_t Int(std::string_view key, int64_t def = 0);
  bool Bool(std::string_view key, bool def = false);
  // An array of strings.
  std::vector<std::string> Strings(std::string_view key);
  // The member whatever its type.
  Json Value(std::string_view key, Json def = nullptr) const;

 private:
  // The member, or nullptr when absent, null or the document is no object.
  const Json* Find(std::string_view key) const;
  const Json& j_;
  bool ok_;
};

}  // namespace vault
