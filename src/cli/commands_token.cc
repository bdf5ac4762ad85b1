// The token commands (token create/lookup/revoke/renew and their 0.x spellings) and login/auth,
// which validate a token with lookup-self and store it in ~/.vault-token.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/format.h"
#include "util/duration.h"
#include "util/strings.h"

namespace vault::cli {
namespace {

int CmdTokenCreate(Invocation& inv) {
  std::string id, display_name, ttl, lease, explicit_max_ttl, period, role, type;
  bool renewable = true, orphan = false, no_default_policy = false;
  int64_t use_limit = 0;
  std::vector<std::string> policies;
  std::map<std::string, std::string> metadata;
  FlagSet& f = inv.flags();
  f.String("id", &id, "Value for the token (default: random).");
  f.String("display-name", &display_name, "Name to associate with this token.");
  f.String("ttl", &ttl, "Initial TTL (\"1h\" or seconds).");
  f.String("lease", &lease, "Deprecated alias of -ttl (0.x).");
  f.String("explicit-max-ttl", &explicit_max_ttl, "Explicit maximum lifetime.");
  f.String("period", &period, "Periodic token renewal period.");
  f.String("role", &role, "Token role to create the token against.");
  f.String("type", &type, "Token type: service or batch.");
  f.Bool("renewable", &renewable, "Allow the token to be renewed.");
  f.Bool("orphan", &orphan, "Create the token with no parent.");
  f.Bool("no-default-policy", &no_default_policy, "Do not attach the \"default\" policy.");
  f.Int("use-limit", &use_limit, "Number of uses before the token is revoked (0: unlimited).");
  f.StringList("policy", &policies, "Policy to attach (repeatable, or comma-separated).", true);
  f.Map("metadata", &metadata, "Metadata K=V to attach (repeatable).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 0)) return *rc;

  Json body = {{"display_name", display_name}, {"num_uses", use_limit}, {"renewable", renewable}};
  if (!id.empty()) body["id"] = id;
  if (!policies.empty()) body["policies"] = policies;
  if (!metadata.empty()) body["meta"] = metadata;
  if (!ttl.empty()) body["ttl"] = ttl;
  if (!lease.empty()) body["lease"] = lease;
  if (!explicit_max_ttl.empty()) body["explicit_max_ttl"] = explicit_max_ttl;
  if (!period.empty()) body["period"] = period;
  if (!type.empty()) body["type"] = type;
  if (orphan) body["no_parent"] = true;
  if (no_default_policy) body["no_default_policy"] = true;

  std::string path = !role.empty() ? "auth/token/create/" + role
                     : orphan      ? "auth/token/create-orphan"
                                   : "auth/token/create";
  auto response = inv.Client().Request("POST", path, body);
  if (!response.ok()) return inv.Fail("Error creating token: " + response.status().message());
  return inv.OutputSecret(response->json);
}

int CmdTokenLookup(Invocation& inv) {
  bool accessor = false;
  inv.flags().Bool("accessor", &accessor, "Treat the argument as an accessor.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(accessor ? 1 : 0, 1)) return *rc;
  Result<ApiResponse> response = Status();
  if (inv.args().empty()) {
    response = inv.Client().Request("GET", "auth/token/lookup-self");
  } else if (accessor) {
    response = inv.Client().Request("POST", "auth/token/lookup-accessor",
                                    Json{{"accessor", inv.args()[0]}});
  } else {
    response = inv.Client().Request("POST", "auth/token/lookup", Json{{"token", inv.args()[0]}});
  }
  if (!response.ok()) return inv.Fail("Error looking up token: " + response.status().message());
  return inv.OutputSecret(response->json);
}

int CmdTokenRevoke(Invocation& inv) {
  bool self = false, accessor = false;
  std::string mode;
  inv.flags().Bool("self", &self, "Revoke the token in use.");
  inv.flags().Bool("accessor", &accessor, "Treat the argument as an accessor.");
  inv.flags().String("mode", &mode, "\"\" (token and children), \"orphan\" or \"path\".");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (self) {
    if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
  } else if (auto rc = inv.ExpectArgs(1, 1)) {
    return *rc;
  }
  if (!mode.empty() && mode != "orphan" && mode != "path") {
    return inv.UsageError("Invalid mode: " + mode);
  }
  if (accessor && mode == "path") {
    return inv.UsageError("Use of -mode=path is not supported with -accessor");
  }
  Result<ApiResponse> response = Status();
  if (self) {
    response = inv.Client().Request("POST", "auth/token/revoke-self");
  } else if (accessor) {
    response = inv.Client().Request("POST", "auth/token/revoke-accessor",
                                    Json{{"accessor", inv.args()[0]}});
  } else if (mode == "orphan") {
    response =
        inv.Client().Request("POST", "auth/token/revoke-orphan", Json{{"token", inv.args()[0]}});
  } else if (mode == "path") {
    response = inv.Client().Request("PUT", "sys/leases/revoke-prefix/" + inv.args()[0]);
  } else {
    response = inv.Client().Request("POST", "auth/token/revoke", Json{{"token", inv.args()[0]}});
  }
  if (!response.ok()) return inv.Fail("Error revoking token: " + response.status().message());
  inv.Print("Success! Revoked token (if it existed)");
  return 0;
}

int CmdTokenRenew(Invocation& inv) {
  std::string increment_text;
  inv.flags().String("increment", &increment_text, "Requested extension (\"1h\" or seconds).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 2)) return *rc;
  if (inv.args().size() == 2) increment_text = inv.args()[1];  // 0.x: token-renew TOKEN INC
  Json body = Json::object();
  if (!increment_text.empty()) {
    auto seconds = ParseDurationSeconds(increment_text);
    if (!seconds.ok()) return inv.UsageError("Invalid increment: " + seconds.status().message());
    body["increment"] = *seconds;
  }
  std::string path = "auth/token/renew-self";
  if (!inv.args().empty()) {
    path = "auth/token/renew";
    body["token"] = inv.args()[0];
  }
  auto response = inv.Client().Request("POST", path, body);
  if (!response.ok()) return inv.Fail("Error renewing token: " + response.status().message());
  return inv.OutputSecret(response->json);
}

// The token to log in with: the argument, stdin for "-", else a hidden prompt.
Result<std::string> LoginToken(Invocation& inv) {
  if (!inv.args().empty() && inv.args()[0] != "-") return Trim(inv.args()[0]);
  if (!inv.args().empty()) {
    ASSIGN_OR_RETURN(std::string all, inv.env().ReadStdin());
    return Trim(all);
  }
  ASSIGN_OR_RETURN(std::string line, inv.env().ReadLine("Token (will be hidden): ", true));
  return Trim(line);
}

// Converts a lookup-self response into a secret with an auth block, as Vault's token login
// handler does, so the auth table and -field=token work.
Json AuthSecretFromLookup(const std::string& token, const Json& lookup) {
  const Json& data = DataOrTop(lookup);
  auto get = [&](const char* key, Json fallback) {
    return data.is_object() && data.contains(key) && !data[key].is_null() ? data[key] : fallback;
  };
  Json policies = get("policies", Json::array());
  Json auth = {
      {"client_token", get("id", token)},
      {"accessor", get("accessor", "")},
      {"policies", policies},
      {"token_policies", policies},
      {"identity_policies", get("identity_policies", Json::array())},
      {"metadata", get("meta", Json())},
      {"lease_duration", JsonInt(get("ttl", 0)).value_or(0)},
      {"renewable", get("renewable", false)},
  };
  return Json{{"request_id", lookup.is_object() ? lookup.value("request_id", "") : ""},
              {"lease_id", ""},
              {"lease_duration", 0},
              {"renewable", false},
              {"data", nullptr},
              {"warnings", nullptr},
              {"auth", auth}};
}

// A method's login (vault login -method=userpass username=U [password=P]): POSTs to the
// method's login path and returns the response with its auth block.
Result<Json> MethodLogin(Invocation& inv, const std::string& method, const std::string& path) {
  std::map<std::string, std::string> kv;
  for (const auto& a : inv.args()) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("Arguments must be key=value pairs: \"" + a + "\"");
    kv[a.substr(0, eq)] = a.substr(eq + 1);
  }
  const std::string mount = TrimTrailingSlash(SanitizePath(path.empty() ? method : path));
  if (method != "userpass") {
    return InvalidArgument("Unknown auth method: " + method +
                           ". Use \"vault auth list\" to see the complete list of auth methods. "
                           "Additionally, some auth methods are only available via the HTTP "
                           "API (vault write auth/" +
                           mount + "/login ...).");
  }
  auto user = kv.find("username");
  if (user == kv.end() || user->second.empty())
    return InvalidArgument("'username' must be specified");
  std::string username = user->second;
  kv.erase(user);
  if (kv.find("password") == kv.end()) {
    ASSIGN_OR_RETURN(std::string pw, inv.env().ReadLine("Password (will be hidden): ", true));
    kv["password"] = pw;
  }
  Json body = Json::object();
  for (const auto& [k, v] : kv) body[k] = v;
  ASSIGN_OR_RETURN(ApiResponse response,
                   inv.Client().Request("POST", "auth/" + mount + "/login/" + username, body));
  if (!response.json.is_object() || !response.json.contains("auth") ||
      !response.json["auth"].is_object())
    return Internal("the server's answer has no auth block");
  return response.json;
}

int Login(Invocation& inv, bool legacy) {
  bool no_store = false, token_only = false, no_print = false, list_methods = false,
       no_verify = false;
  std::string method = "token", path;
  inv.flags().Bool("no-store", &no_store, "Do not store the token in ~/.vault-token.");
  inv.flags().String("method", &method, "Auth method: token (default) or userpass.");
  inv.flags().String("path", &path, "Where the auth method is enabled (default: its type).");
  inv.flags().Bool("token-only", &token_only,
                   "Print only the token, and do not store it (same as -field=token -no-store).");
  inv.flags().Bool("no-print", &no_print, "Do not print the token information.");
  if (legacy) {
    inv.flags().Bool("methods", &list_methods, "List the enabled auth methods.");
    inv.flags().Bool("no-verify", &no_verify, "Do not look the token up after logging in.");
  }
  if (auto rc = inv.ParseFlags()) return *rc;
  if (list_methods) {
    if (auto rc = inv.ExpectArgs(0, 0)) return *rc;
    return ListAuthMethods(inv, false);
  }
  if (token_only) no_store = true;
  std::string token;
  Json secret;
  if (method == "token") {
    if (auto rc = inv.ExpectArgs(0, 1)) return *rc;
    auto t = LoginToken(inv);
    if (!t.ok()) return inv.Fail("Error reading token: " + t.status().message());
    if (t->empty()) return inv.UsageError("Missing token");
    token = *t;
    ApiClient& client = inv.Client();
    client.set_token(token);
    auto response = client.Request("GET", "auth/token/lookup-self");
    if (!response.ok()) return inv.Fail("Error authenticating: " + response.status().message());
    secret = AuthSecretFromLookup(token, response->json);
  } else {
    auto r = MethodLogin(inv, method, path);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kInvalidArgument &&
          r.status().message().rfind("Unknown auth method", 0) == 0)
        return inv.UsageError(r.status().message());
      return inv.Fail("Error authenticating: " + r.status().message());
    }
    secret = std::move(r).value();
    token = secret["auth"].value("client_token", "");
  }
  if (token_only) {
    inv.Print(token);
    return 0;
  }
  if (!no_store) {
    Status st = inv.env().WriteFile(inv.TokenFilePath(), token);
    if (!st.ok()) return inv.Fail("Error storing token: " + st.message());
  }
  if (no_print) return 0;
  if (legacy) {
    std::vector<std::string> names;
    for (const Json& p : secret["auth"]["policies"]) names.push_back(FormatGoValue(p));
    inv.Print(
        "Successfully authenticated! The policies that are associated\n"
        "with this token are listed below:\n\n" +
        Join(names, ", "));
    return 0;
  }
  if (auto env_token = inv.env().GetEnv("VAULT_TOKEN"); env_token && !env_token->empty()) {
    inv.Err() << WrapAtLength(
                     "WARNING! The VAULT_TOKEN environment variable is set! The value of this "
                     "variable will take precedence; if this is unwanted please unset "
                     "VAULT_TOKEN or update its value accordingly.")
              << "\n\n";
  }
  if (inv.TableFormat()) {
    if (no_store) {
      inv.Print(
          WrapAtLength("Success! You are now authenticated. The token information displayed below "
                       "is not stored in the token helper. Set the VAULT_TOKEN environment "
                       "variable to use this token for future requests.") +
          "\n");
    } else {
      inv.Print(
          WrapAtLength("Success! You are now authenticated. The token information displayed below "
                       "is already stored in the token helper. You do NOT need to run \"vault "
                       "login\" again. Future Vault requests will automatically use this token.") +
          "\n");
    }
  }
  return inv.OutputSecret(secret);
}

int CmdLogin(Invocation& inv) { return Login(inv, false); }
int CmdAuth(Invocation& inv) { return Login(inv, true); }

}  // namespace

// vault token capabilities [TOKEN] PATH (and the 0.x `vault capabilities`): the token's
// capabilities on PATH, from sys/capabilities (or sys/capabilities-self without TOKEN). Vault's
// CLI prints them sorted and comma-separated ("create, read"); 0.x printed "Capabilities: [...]";
// -format=json prints the array.
int CmdTokenCapabilities(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(1, 2)) return *rc;
  std::string token = inv.args().size() == 2 ? inv.args()[0] : "";
  const std::string& path = inv.args().back();
  Json body{{"path", path}};
  if (!token.empty()) body["token"] = token;
  Result<ApiResponse> response = inv.Client().Request(
      "POST", token.empty() ? "sys/capabilities-self" : "sys/capabilities", body);
  if (!response.ok()) return inv.Fail("Error listing capabilities: " + response.status().message());
  const Json& data = response->json.is_object() && response->json.contains("data") &&
                             response->json["data"].is_object()
                         ? response->json["data"]
                         : response->json;
  std::vector<std::string> caps;
  for (const char* key : {path.c_str(), "capabilities"}) {
    if (!data.contains(key) || !data[key].is_array()) continue;
    for (const auto& c : data[key]) {
      if (c.is_string()) caps.push_back(c.get<std::string>());
    }
    if (!caps.empty()) break;
  }
  if (inv.JsonFormat()) {
    inv.PrintJson(Json(caps));
    return 0;
  }
  if (inv.spec_name() == "capabilities") {  // 0.x: Go's %s of the slice, in the server's order
    inv.Print("Capabilities: [" + Join(caps, " ") + "]");
    return 0;
  }
  std::sort(caps.begin(), caps.end());
  inv.Print(Join(caps, ", "));
  return 0;
}

// vault unwrap [TOKEN]: the answer a wrapping token holds (with no TOKEN, the CLI's own token is
// the wrapping token).
int CmdUnwrap(Invocation& inv) {
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 1)) return *rc;
  Json body = Json::object();
  if (!inv.args().empty()) body["token"] = inv.args()[0];
  auto response = inv.Client().Request("POST", "sys/wrapping/unwrap", body);
  if (!response.ok()) {
    inv.Fail("Error unwrapping: " + response.status().message());
    return 2;  // as Vault's unwrap
  }
  if (response->json.is_null()) {
    inv.Err() << "Error unwrapping: no data in the wrapped response\n";
    return 2;
  }
  return inv.OutputSecret(response->json);
}

void AppendTokenCommands(std::vector<CommandSpec>* out) {
  out->push_back({"unwrap", "[options] [TOKEN]", "Unwrap a wrapped secret", CmdUnwrap});
  out->push_back({"login", "[options] [TOKEN]", "Authenticate locally", CmdLogin});
  out->push_back({"token create", "[options]", "Create a new token", CmdTokenCreate});
  out->push_back({"token lookup", "[options] [TOKEN | ACCESSOR]",
                  "Display information about a token", CmdTokenLookup});
  out->push_back({"token revoke", "[options] [TOKEN | ACCESSOR]", "Revoke a token and its children",
                  CmdTokenRevoke});
  out->push_back({"token renew", "[options] [TOKEN]", "Renew a token lease", CmdTokenRenew});
  out->push_back({"token capabilities", "[options] [TOKEN] PATH",
                  "Print capabilities of a token on a path", CmdTokenCapabilities});

  out->push_back(
      {"auth", "[options] [TOKEN]", "Prints information about how to authenticate", CmdAuth, true});
  out->push_back({"token-create", "[options]", "Create a new auth token", CmdTokenCreate, true});
  out->push_back({"token-lookup", "[options] [TOKEN]", "Display information about a token",
                  CmdTokenLookup, true});
  out->push_back(
      {"token-revoke", "[options] TOKEN", "Revoke one or more auth tokens", CmdTokenRevoke, true});
  out->push_back(
      {"token-renew", "[options] [TOKEN] [INCREMENT]", "Renew an auth token", CmdTokenRenew, true});
  out->push_back({"capabilities", "[options] [TOKEN] PATH",
                  "Fetch the capabilities of a token on a path", CmdTokenCapabilities, true});
}

}  // namespace vault::cli
