// The userpass auth method: users with a password (stored as a bcrypt hash, cost 10, as Vault
// does), their token fields, and login/<username>. An unknown user and a wrong password take the
// same time (a bcrypt of a real dummy hash) and get the same answer.
#pragma once

#include <memory>

#include "logical/logical.h"

namespace vault::engines {

std::shared_ptr<logical::Backend> NewUserpassBackend(const logical::MountInfo& mount);

// bcrypt through libxcrypt (exposed for tests). Hash: "$2b$<cost>$...". Verify compares in
// constant time; a malformed hash verifies nothing.
Result<std::string> BcryptHash(const std::string& password, int cost);
bool BcryptVerify(const std::string& password, const std::string& hash);

}  // namespace vault::engines
