#include "engines/userpass/userpass.h"

#include <crypt.h>

#include <cctype>
#include <cstring>
#include <mutex>

#include "crypto/hash.h"
#include "logical/framework.h"
#include "logical/token_fields.h"
#include "util/cidr.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::engines {
namespace {

using logical::Field;
using logical::FieldData;
using logical::FieldType;
using logical::Operation;
using logical::Path;
using logical::Request;
using logical::Response;

constexpr int kCost = 10;  // Go's bcrypt.DefaultCost, which Vault uses
// Vault's framework.GenericNameWithAtRegex.
constexpr char kUserRe[] = "(?P<username>\\w(([\\w\\-.@]+)?\\w)?)";

const logical::TokenFieldOptions& TokenOptions() {
  static const logical::TokenFieldOptions o{{"policies", "ttl", "max_ttl", "bound_cidrs"}, false};
  return o;
}

struct User {
  std::string password_hash;
  logical::TokenParams token;
};

Json UserToJson(const User& u) {
  return {{"password_hash", u.password_hash}, {"token", logical::TokenParamsToJson(u.token)}};
}

Task<Result<std::optional<User>>> LoadUser(logical::Storage* s, const std::string& name) {
  CO_ASSIGN_OR_RETURN(auto j, co_await logical::GetJson(s, "user/" + ToLower(name)));
  if (!j) co_return std::optional<User>();
  User u;
  u.password_hash = j->value("password_hash", "");
  u.token = logical::TokenParamsFromJson(j->value("token", Json::object()));
  co_return std::optional<User>(std::move(u));
}

// Runs fn on core's CPU workers when there are (bcrypt takes tens of milliseconds).
Task<std::string> Cpu(Request& r, std::function<std::string()> fn) {
  if (!r.cpu) co_return fn();
  std::string out = co_await r.cpu->Run(std::move(fn));
  co_return out;
}

Status CheckPassword(const std::string& p) {
  if (p.empty()) return InvalidArgument("missing password");
  if (p.find('\0') != std::string::npos) return InvalidArgument("password must not contain NUL");
  if (p.size() > 72) return InvalidArgument("bcrypt: password length exceeds 72 bytes");
  return Status::Ok();
}

// A pre-computed bcrypt hash (Go's $2a$ or libxcrypt's $2b$/$2y$) with a cost we accept: 4-14
// (a higher cost would let a writer make every login of the user take minutes).
Status CheckHash(const std::string& h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') ||
      h[3] != '$' || h[6] != '$' || !isdigit(static_cast<unsigned char>(h[4])) ||
      !isdigit(static_cast<unsigned char>(h[5])))
    return InvalidArgument("password_hash is not a bcrypt hash");
  int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 14)
    return InvalidArgument("password_hash: bcrypt cost must be between 4 and 14");
  return Status::Ok();
}

// Sets the user's password (or hash) from the request; on Ok, u->password_hash is set.
Task<Status> SetPassword(Request& r, const FieldData& d, User* u) {
  bool has_pw = d.Has("password") && !d.GetString("password").empty();
  bool has_hash = d.Has("password_hash") && !d.GetString("password_hash").empty();
  if (has_pw && has_hash)
    co_return InvalidArgument("only one of password or password_hash may be provided");
  if (has_hash) {
    std::string h = d.GetString("password_hash");
    CO_RETURN_IF_ERROR(CheckHash(h));
    u->password_hash = std::move(h);
    co_return Status::Ok();
  }
  std::string pw = d.GetString("password");
  CO_RETURN_IF_ERROR(CheckPassword(pw));
  // A local, not a temporary in the co_await expression (GCC 12 destroys those twice).
  std::function<std::string()> work = [pw] {
    auto h = BcryptHash(pw, kCost);
    return h.ok() ? *h : std::string();
  };
  std::string hash = co_await Cpu(r, std::move(work));
  if (hash.empty()) co_return Internal("failed to hash the password");
  u->password_hash = std::move(hash);
  co_return Status::Ok();
}

// A valid hash of a random password at the same cost, computed once: logins of unknown users
// verify against it and take as long as real ones (CVE-2025-6011).
const std::string& DummyHash() {
  static std::once_flag once;
  static std::string hash;
  std::call_once(once, [] {
    auto h = BcryptHash(RandomAlnum(32), kCost);
    hash = h.ok() ? *h : std::string();
  });
  return hash;
}

}  // namespace

Result<std::string> BcryptHash(const std::string& password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting))
    return Internal("bcrypt: cannot make a salt");
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), setting, data.get(), sizeof(crypt_data));
  if (!out || out[0] == '*') return Internal("bcrypt: hashing failed");
  return std::string(out);
}

bool BcryptVerify(const std::string& password, const std::string& hash) {
  if (hash.size() != 60 || password.find('\0') != std::string::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (!out || out[0] == '*') return false;
  return crypto::ConstantTimeEquals(out, hash);
}

std::shared_ptr<logical::Backend> NewUserpassBackend(const logical::MountInfo&) {
  std::vector<Field> user_fields = {
      {"username", FieldType::kString, "Username for this user."},
      {"password", FieldType::kString, "Password for this user."},
      {"password_hash", FieldType::kString, "Pre-hashed password (bcrypt) for this user."},
  };
  for (auto& f : logical::TokenFields(TokenOptions())) user_fields.push_back(std::move(f));

  Path list;
  list.pattern = "users/?";
  list.synopsis = "Manage users allowed to authenticate.";
  list.async_operations[Operation::kList] = [](Request& r,
                                               const FieldData&) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto keys, co_await r.storage->List("user/"));
    if (keys.empty()) co_return Response();
    co_return Response::WithData({{"keys", keys}});
  };

  Path user;
  user.pattern = std::string("users/") + kUserRe;
  user.synopsis = "Manage users allowed to authenticate.";
  user.description =
      "This endpoint allows you to create, read, update, and delete users that are allowed to "
      "authenticate.\n\nDeleting a user will not revoke auth for prior authenticated users with "
      "that name. To do this, do a revoke on \"login/<username>\" for the username you want "
      "revoked.";
  user.fields = user_fields;
  user.existence_check = [](Request& r, const FieldData& d) -> Task<Result<bool>> {
    CO_ASSIGN_OR_RETURN(auto u, co_await LoadUser(r.storage, d.GetString("username")));
    co_return u.has_value();
  };
  user.async_operations[Operation::kRead] = [](Request& r,
                                               const FieldData& d) -> Task<Result<Response>> {
    CO_ASSIGN_OR_RETURN(auto u, co_await LoadUser(r.storage, d.GetString("username")));
    if (!u) co_return Response();
    Json data = Json::object();
    logical::AddTokenFieldsToData(u->token, &data);
    co_return Response::WithData(std::move(data));
  };
  auto write = [](Request& r, const FieldData& d) -> Task<Result<Response>> {
    std::string name = ToLower(d.GetString("username"));
    CO_ASSIGN_OR_RETURN(auto existing, co_await LoadUser(r.storage, name));
    User u = existing ? *existing : User();
    if (!existing || d.Has("password") || d.Has("password_hash")) {
      if (!existing && !d.Has("password") && !d.Has("password_hash"))
        co_return InvalidArgument("missing password");
      CO_RETURN_IF_ERROR(co_await SetPassword(r, d, &u));
    }
    Response resp;
    CO_RETURN_IF_ERROR(logical::ApplyTokenFields(d, TokenOptions(), &u.token, &resp.warnings));
    CO_RETURN_IF_ERROR(co_await logical::PutJson(r.storage, "user/" + name, UserToJson(u)));
    co_return resp;
  };
  user.async_operations[Operation::kCreate] = write;
  user.async_operations[Operation::kUpdate] = write;
  user.async_operations[Operation::kDelete] = [](Request& r,
                                                 const FieldData& d) -> Task<Result<Response>> {
    CO_RETURN_IF_ERROR(co_await r.storage->Delete("user/" + ToLower(d.GetString("username"))));
    co_return Response();
  };

  Path password;
  password.pattern = std::string("users/") + kUserRe + "/password$";
  password.synopsis = "Reset user's password.";
  password.fields = {user_fields[0], user_fields[1], user_fields[2]};
  password.async_operations[Operation::kUpdate] = [](Request& r,
                                                     const FieldData& d) -> Task<Result<Response>> {
    std::string name = ToLower(d.GetString("username"));
    CO_ASSIGN_OR_RETURN(auto u, co_await LoadUser(r.storage, name));
    if (!u) co_return InvalidArgument("username does not exist");
    if (!d.Has("password") && !d.Has("password_hash"))
      co_return InvalidArgument("missing password");
    CO_RETURN_IF_ERROR(co_await SetPassword(r, d, &*u));
    CO_RETURN_IF_ERROR(co_await logical::PutJson(r.storage, "user/" + name, UserToJson(*u)));
    co_return Response();
  };

  Path policies;
  policies.pattern = std::string("users/") + kUserRe + "/policies$";
  policies.synopsis = "Update the policies associated with the username.";
  policies.fields = {user_fields[0],
                     {"policies", FieldType::kCommaStringSlice, "Use \"token_policies\" instead."},
                     {"token_policies", FieldType::kCommaStringSlice, "Comma-separated policies."}};
  policies.async_operations[Operation::kUpdate] = [](Request& r,
                                                     const FieldData& d) -> Task<Result<Response>> {
    std::string name = ToLower(d.GetString("username"));
    CO_ASSIGN_OR_RETURN(auto u, co_await LoadUser(r.storage, name));
    if (!u) co_return InvalidArgument("username does not exist");
    CO_RETURN_IF_ERROR(logical::ApplyTokenFields(d, TokenOptions(), &u->token, nullptr));
    CO_RETURN_IF_ERROR(co_await logical::PutJson(r.storage, "user/" + name, UserToJson(*u)));
    co_return Response();
  };

  Path login;
  login.pattern = std::string("login/") + kUserRe;
  login.synopsis = "Log in with a username and password.";
  login.fields = {user_fields[0], user_fields[1]};
  login.async_operations[Operation::kUpdate] = [](Request& r,
                                                  const FieldData& d) -> Task<Result<Response>> {
    std::string name = ToLower(d.GetString("username"));
    std::string pw = d.GetString("password");
    if (pw.empty()) co_return InvalidArgument("missing password");
    // Read from storage on every login (no cache), then one bcrypt either way.
    CO_ASSIGN_OR_RETURN(auto u, co_await LoadUser(r.storage, name));
    std::string hash = u ? u->password_hash : std::string();
    std::function<std::string()> work = [pw, hash] {
      const std::string& against = hash.empty() ? DummyHash() : hash;
      bool match = BcryptVerify(pw, against);
      return std::string(match && !hash.empty() ? "1" : "0");
    };
    std::string ok = co_await Cpu(r, std::move(work));
    if (!u || ok != "1") co_return InvalidArgument("invalid username or password");
    if (!u->token.bound_cidrs.empty() && !AddressAllowed(u->token.bound_cidrs, r.remote_address))
      co_return PermissionDenied();
    Response resp;
    logical::LoginAuth a;
    a.token = u->token;
    a.display_name = name;
    a.alias_name = name;
    a.metadata = {{"username", name}};
    a.internal_data = {{"username", name}};
    resp.login = std::move(a);
    co_return resp;
  };

  auto backend = std::make_shared<logical::FrameworkBackend>(
      "The \"userpass\" credential provider allows authentication using a combination of a "
      "username and password. No additional factors are supported.\n\nThe username/password "
      "combination is configured using the \"users/\" endpoints by a user with root access. "
      "Authentication is then done by supplying the two fields for \"login\".",
      std::vector<Path>{list, password, policies, user, login});
  backend->SetUnauthenticatedPaths({"login/*"});
  // Renewal: the user must still exist with the policies the token was issued with.
  backend->SetAuthRenew([](Request& r) -> Task<Result<Response>> {
    std::string name = r.auth->internal_data.value("username", "");
    CO_ASSIGN_OR_RETURN(auto u, co_await LoadUser(r.storage, name));
    if (!u) co_return InvalidArgument("user \"" + name + "\" no longer exists, not renewing");
    if (u->token.policies != r.auth->token.policies)
      co_return InvalidArgument("policies have changed, not renewing");
    Response resp;
    logical::LoginAuth a = *r.auth;
    a.token = u->token;
    resp.login = std::move(a);
    co_return resp;
  });
  return backend;
}

}  // namespace vault::engines
