// The key ceremonies: `vault operator rekey` (new unseal key shares, optionally verified before
// they replace the old ones) and `vault operator generate-root` (a root token from a threshold
// of shares, handed out XOR-ed with a one-time password), as Vault's CLI runs them.
#include "cli/command.h"
#include "cli/format.h"
#include "util/encoding.h"
#include "util/random.h"
#include "util/strings.h"

namespace vault::cli {
namespace {

std::string Str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : FormatGoValue(j[key]);
}

// The key share: the argument, "-" for stdin, or a hidden prompt.
Result<std::string> ReadShare(Invocation& inv, const std::string& prompt) {
  std::string key;
  if (!inv.args().empty() && inv.args()[0] != "-") {
    key = inv.args()[0];
  } else {
    ASSIGN_OR_RETURN(std::string line, inv.env().ReadLine(prompt, /*hidden=*/true));
    key = Trim(line);
  }
  if (key.empty()) return InvalidArgument("Missing key");
  return key;
}

void PrintRekeyStatus(Invocation& inv, const Json& s, bool verify) {
  std::vector<TableRow> rows = {{"Key", "Value"}};
  rows.push_back({"Nonce", Str(s, "nonce")});
  rows.push_back({"Started", Str(s, "started")});
  if (verify) {
    rows.push_back({"New Shares", Str(s, "n")});
    rows.push_back({"New Threshold", Str(s, "t")});
    rows.push_back({"Verification Progress", Str(s, "progress") + "/" + Str(s, "t")});
  } else {
    if (s.value("started", false))
      rows.push_back({"Rekey Progress", Str(s, "progress") + "/" + Str(s, "required")});
    rows.push_back({"New Shares", Str(s, "n")});
    rows.push_back({"New Threshold", Str(s, "t")});
    rows.push_back({"Verification Required", Str(s, "verification_required")});
    if (!Str(s, "verification_nonce").empty())
      rows.push_back({"Verification Nonce", Str(s, "verification_nonce")});
  }
  inv.Print(FormatTable(rows));
}

int CmdRekey(Invocation& inv) {
  bool init = false, cancel = false, status = false, verify = false, backup = false;
  int64_t shares = 5, threshold = 3;
  std::string nonce, target = "barrier", pgp_keys;
  inv.flags().Bool("init", &init, "Start a rekey (with -key-shares and -key-threshold).");
  inv.flags().Bool("cancel", &cancel, "Cancel the rekey (or, with -verify, its verification).");
  inv.flags().Bool("status", &status, "Print the rekey's (or verification's) progress.");
  inv.flags().Bool("verify", &verify,
                   "With -init: require the new shares to be entered back before they replace "
                   "the old ones. Otherwise: act on that verification.");
  inv.flags().Int("key-shares", &shares, "Number of new key shares (default 5).");
  inv.flags().Int("n", &shares, "Alias of -key-shares.");
  inv.flags().Int("key-threshold", &threshold, "Shares needed to unseal (default 3).");
  inv.flags().Int("t", &threshold, "Alias of -key-threshold.");
  inv.flags().String("nonce", &nonce, "The operation's nonce (read from the status if absent).");
  inv.flags().String("target", &target, "barrier (the only target: no recovery keys here).");
  inv.flags().String("pgp-keys", &pgp_keys, "Not supported by this server.");
  inv.flags().Bool("backup", &backup, "Not supported by this server (needs -pgp-keys).");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 1)) return *rc;
  if (target != "barrier")
    return inv.Fail("Error: -target=" + target +
                    " is not supported: this server has no "
                    "recovery keys");
  if (!pgp_keys.empty() || backup)
    return inv.Fail("Error: PGP-encrypted key shares and their backup are not supported");
  const std::string base = verify && !init ? "sys/rekey/verify" : "sys/rekey/init";

  if (init) {
    Json body = {{"secret_shares", shares},
                 {"secret_threshold", threshold},
                 {"require_verification", verify}};
    auto r = inv.Client().Request("PUT", "sys/rekey/init", body);
    if (!r.ok()) return inv.Fail("Error initializing rekey: " + r.status().message());
    if (auto rc = inv.OutputMachine(r->json)) return *rc;
    PrintRekeyStatus(inv, r->json, false);
    return 0;
  }
  if (cancel) {
    auto r = inv.Client().Request("DELETE", base);
    if (!r.ok()) return inv.Fail("Error canceling rekey: " + r.status().message());
    inv.Print(verify ? "Success! Canceled rekey verification (if it was started)"
                     : "Success! Canceled rekeying (if it was started)");
    return 0;
  }
  if (status) {
    auto r = inv.Client().Request("GET", base);
    if (!r.ok()) return inv.Fail("Error reading rekey status: " + r.status().message());
    if (auto rc = inv.OutputMachine(r->json)) return *rc;
    PrintRekeyStatus(inv, r->json, verify);
    return 0;
  }

  // Entering a share: the nonce comes from the status when not given.
  auto before = inv.Client().Request("GET", base);
  if (!before.ok()) return inv.Fail("Error reading rekey status: " + before.status().message());
  if (!verify && !before->json.value("started", false))
    return inv.Fail("No rekey is in progress. Start one with \"vault operator rekey -init\".");
  if (nonce.empty()) nonce = Str(before->json, "nonce");
  if (inv.args().empty() || inv.args()[0] == "-")
    inv.Err() << (verify ? "Rekey verification nonce: " : "Rekey operation nonce: ") << nonce
              << "\n";
  auto key = ReadShare(inv, "Unseal Key (will be hidden): ");
  if (!key.ok()) return inv.Fail("Error reading key: " + key.status().message());
  Json body = {{"key", *key}, {"nonce", nonce}};
  auto r = inv.Client().Request("PUT", verify ? "sys/rekey/verify" : "sys/rekey/update", body);
  if (!r.ok()) return inv.Fail("Error posting unseal key: " + r.status().message());
  const Json& out = r->json;
  if (auto rc = inv.OutputMachine(out)) return *rc;
  if (!out.value("complete", false)) {
    PrintRekeyStatus(inv, out, verify);
    return 0;
  }
  if (verify) {
    inv.Print(
        "Success! Rekey verification was successful. The new unseal key shares are now "
        "active.");
    return 0;
  }
  const Json& keys = out.contains("keys_base64") ? out["keys_base64"] : out["keys"];
  std::string text;
  for (size_t i = 0; i < keys.size(); ++i)
    text += "Key " + std::to_string(i + 1) + ": " + keys[i].get<std::string>() + "\n";
  text += "\nOperation nonce: " + Str(out, "nonce") + "\n\n";
  const std::string n = Str(before->json, "n"), t = Str(before->json, "t");
  if (out.value("verification_required", false)) {
    text += "Vault has created a new unseal key, split into " + n +
            " key shares and a key threshold of " + t +
            ". These will not be active until after verification is complete. Please securely "
            "distribute the key shares printed above. When Vault is re-sealed, restarted, or "
            "stopped, you must supply at least " +
            t +
            " of these keys to unseal it before it can start servicing requests.\n\n"
            "Verification nonce: " +
            Str(out, "verification_nonce") + "\nEnter " + t +
            " of the new keys with \"vault operator rekey -verify -nonce=<verification nonce> "
            "<key>\".";
  } else {
    text += "Vault rekeyed with " + n + " key shares and a key threshold of " + t +
            ". Please securely distribute the key shares printed above. When Vault is "
            "re-sealed, restarted, or stopped, you must supply at least " +
            t + " of these keys to unseal it before it can start servicing requests.";
  }
  inv.Print(text);
  return 0;
}

void PrintRootGeneration(Invocation& inv, const Json& s) {
  std::vector<TableRow> rows;
  rows.push_back({"Nonce", Str(s, "nonce")});
  rows.push_back({"Started", Str(s, "started")});
  rows.push_back({"Progress", Str(s, "progress") + "/" + Str(s, "required")});
  rows.push_back({"Complete", Str(s, "complete")});
  if (!Str(s, "encoded_token").empty()) rows.push_back({"Encoded Token", Str(s, "encoded_token")});
  if (!Str(s, "otp").empty()) rows.push_back({"OTP", Str(s, "otp")});
  rows.push_back({"OTP Length", Str(s, "otp_length")});
  inv.Print(FormatTable(rows, /*underline_header=*/false));
}

int CmdGenerateRoot(Invocation& inv) {
  bool init = false, cancel = false, status = false, generate_otp = false;
  std::string otp, decode, nonce, pgp_key;
  inv.flags().Bool("init", &init, "Start a root token generation (-otp, or one is generated).");
  inv.flags().Bool("cancel", &cancel, "Cancel the generation.");
  inv.flags().Bool("status", &status, "Print the generation's progress.");
  inv.flags().Bool("generate-otp", &generate_otp, "Print a one-time password of the right length.");
  inv.flags().String("otp", &otp, "The one-time password (with -init or -decode).");
  inv.flags().String("decode", &decode, "Decode this encoded token with -otp.");
  inv.flags().String("nonce", &nonce, "The operation's nonce (read from the status if absent).");
  inv.flags().String("pgp-key", &pgp_key, "Not supported by this server.");
  if (auto rc = inv.ParseFlags()) return *rc;
  if (auto rc = inv.ExpectArgs(0, 1)) return *rc;
  if (!pgp_key.empty()) return inv.Fail("Error: PGP-encrypted root tokens are not supported");

  if (!decode.empty()) {
    if (otp.empty()) return inv.UsageError("Missing -otp: it is needed to decode the token");
    std::string padded = decode;
    while (padded.size() % 4 != 0) padded += '=';
    auto raw = Base64Decode(padded);
    if (!raw.ok()) return inv.Fail("Error decoding root token: it is not base64");
    if (raw->size() != otp.size())
      return inv.Fail("Error decoding root token: the OTP's length does not match the token's");
    std::string token = *raw;
    for (size_t i = 0; i < token.size(); ++i) token[i] ^= otp[i];
    inv.PrintRaw(token);
    return 0;
  }
  if (generate_otp) {
    auto r = inv.Client().Request("GET", "sys/generate-root/attempt");
    if (!r.ok()) return inv.Fail("Error getting root generation status: " + r.status().message());
    int64_t length = r->json.value("otp_length", int64_t{0});
    if (length <= 0) return inv.Fail("Error: the server reports no OTP length");
    inv.PrintRaw(RandomAlnum(static_cast<size_t>(length)));
    return 0;
  }
  if (init) {
    Json body = Json::object();
    if (!otp.empty()) body["otp"] = otp;
    auto r = inv.Client().Request("PUT", "sys/generate-root/attempt", body);
    if (!r.ok()) return inv.Fail("Error initializing root generation: " + r.status().message());
    if (auto rc = inv.OutputMachine(r->json)) return *rc;
    if (otp.empty())
      inv.Err() << "A One-Time-Password has been generated for you and is shown in the OTP "
                   "field. You will need this value to decode the resulting root token, so keep "
                   "it safe.\n";
    PrintRootGeneration(inv, r->json);
    return 0;
  }
  if (cancel) {
    auto r = inv.Client().Request("DELETE", "sys/generate-root/attempt");
    if (!r.ok()) return inv.Fail("Error canceling root generation: " + r.status().message());
    inv.Print("Success! Root token generation canceled (if it was started)");
    return 0;
  }
  auto before = inv.Client().Request("GET", "sys/generate-root/attempt");
  if (!before.ok())
    return inv.Fail("Error getting root generation status: " + before.status().message());
  if (status) {
    if (auto rc = inv.OutputMachine(before->json)) return *rc;
    PrintRootGeneration(inv, before->json);
    return 0;
  }
  if (!before->json.value("started", false))
    return inv.Fail(
        "No root generation is in progress. Start one with \"vault operator "
        "generate-root -init\".");
  if (nonce.empty()) nonce = Str(before->json, "nonce");
  if (inv.args().empty() || inv.args()[0] == "-") inv.Err() << "Operation nonce: " << nonce << "\n";
  auto key = ReadShare(inv, "Unseal Key (will be hidden): ");
  if (!key.ok()) return inv.Fail("Error reading key: " + key.status().message());
  Json body = {{"key", *key}, {"nonce", nonce}};
  auto r = inv.Client().Request("PUT", "sys/generate-root/update", body);
  if (!r.ok()) return inv.Fail("Error posting unseal key: " + r.status().message());
  if (auto rc = inv.OutputMachine(r->json)) return *rc;
  PrintRootGeneration(inv, r->json);
  return 0;
}

}  // namespace

void AppendOperatorCommands(std::vector<CommandSpec>* out) {
  out->push_back({"operator rekey", "[options] [KEY]", "Generates new unseal keys", CmdRekey});
  out->push_back(
      {"operator generate-root", "[options] [KEY]", "Generates a new root token", CmdGenerateRoot});
}

}  // namespace vault::cli
