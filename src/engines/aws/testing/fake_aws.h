// Test-only: an in-memory IAM and STS behind aws::ClientFactory, strict where the engine's
// correctness depends on AWS being strict (DeleteUser refuses while anything is attached: keys,
// policies, groups, a login profile, MFA devices, signing certificates, SSH public keys,
// service-specific credentials; NoSuchEntity for unknown users and groups, two access keys per
// user, unknown keys are rejected). Records every call with the access key that signed it, and lets
// a test inject errors per action and a propagation delay for new access keys. Completes every call
// inline. Safe for concurrent use.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aws/api.h"
#include "util/clock.h"
#include "util/json.h"

namespace vault::engines::awsengine::testing {

inline constexpr const char* kRootAccessKey = "AKIAROOTROOTROOT0001";
inline constexpr const char* kRootSecretKey = "rootsecretrootsecretrootsecretrootsecret";
inline constexpr const char* kRootUser = "vault-root";
inline constexpr const char* kAccount = "123456789012";

struct FakeUser {
  std::string name;
  std::string id;  // UserId; empty = assigned by the fake (a fresh one for every user created)
  std::string path;
  std::string permissions_boundary_arn;
  ::vault::aws::Tags tags;
  std::map<std::string, std::string> inline_policies;
  std::vector<std::string> attached;  // policy ARNs
  std::set<std::string> groups;
  std::vector<std::string> keys;  // access key ids
  // Each of these makes DeleteUser fail with DeleteConflict until it is removed.
  bool login_profile = false;
  std::vector<std::string> mfa_devices;  // serial numbers (virtual: arn:aws:iam::...:mfa/...)
  std::vector<std::string> signing_certificates;  // certificate ids
  std::vector<std::string> ssh_public_keys;       // SSH public key ids
  std::vector<std::string> service_credentials;   // service-specific credential ids
};

struct FakeCall {
  std::string action;
  Json params;
  std::string access_key;        // the key that signed the call
  const void* client = nullptr;  // which client made it (its configuration's address)
};

class FakeAws : public ::vault::aws::ClientFactory, public std::enable_shared_from_this<FakeAws> {
 public:
  explicit FakeAws(Clock* clock);

  std::shared_ptr<::vault::aws::IamApi> NewIam(const ::vault::aws::ClientConfig& cfg) override;
  std::shared_ptr<::vault::aws::StsApi> NewSts(const ::vault::aws::ClientConfig& cfg) override;
  // Runs once, inside the next NewIam or NewSts, before it returns (to interleave a concurrent
  // request with the building of a client).
  std::function<void()> during_new_client;

  // --- setup
  // Makes the next `times` calls of `action` fail with `error` (queued after earlier ones).
  void FailNext(const std::string& action, ::vault::aws::AwsError error, int times = 1);
  static ::vault::aws::AwsError Error(const std::string& code, int http_status,
                                      const std::string& message = "injected");
  // New access keys (from CreateAccessKey) are refused by GetCallerIdentity this many times.
  void RejectNewKeysFor(int probes);
  // Fails GetCallerIdentity for every client of this STS endpoint (fallback tests).
  void BreakStsEndpoint(const std::string& endpoint);
  void AddGroup(const std::string& name, std::vector<std::string> attached_arns = {},
                std::map<std::string, std::string> inline_policies = {});
  // Creates a user directly (as a crashed issue would have left it).
  void AddUser(const FakeUser& user);
  // Adds an access key created now (by the fake clock) to an existing user; returns its id.
  std::string AddKey(const std::string& user);
  // Deletes a user with its keys, whatever is attached (as someone outside Vault would).
  void RemoveUser(const std::string& name);
  void SetLoginProfile(const std::string& user, bool on);
  // Assigns an MFA device to the user and returns its serial number: a virtual device (an ARN,
  // which exists in the account on its own and outlives its deactivation) or a hardware one.
  std::string AddMfaDevice(const std::string& user, bool is_virtual = true);
  // Add a signing certificate / SSH public key / service-specific credential; return its id.
  std::string AddSigningCertificate(const std::string& user);
  std::string AddSshPublicKey(const std::string& user);
  std::string AddServiceCredential(const std::string& user);

  // --- inspection
  std::vector<FakeCall> calls() const;
  std::vector<std::string> actions() const;  // action names in call order
  void ClearCalls();
  bool HasUser(const std::string& name) const;
  std::optional<FakeUser> user(const std::string& name) const;
  size_t user_count() const;  // excluding the root user
  std::vector<::vault::aws::ClientConfig> iam_configs() const;
  std::vector<::vault::aws::ClientConfig> sts_configs() const;
  bool KeyExists(const std::string& key_id) const;
  std::vector<std::string> keys_of(const std::string& user) const;  // in creation order
  bool VirtualMfaDeviceExists(const std::string& serial) const;

 private:
  friend class FakeIam;
  friend class FakeSts;
  struct Key {
    std::string user;
    std::string secret;
    bool fresh = false;  // created by CreateAccessKey (subject to RejectNewKeysFor)
    std::string create_date;
  };
  // Records the call and returns an injected or authentication error, if any. Caller holds mu_.
  std::optional<::vault::aws::AwsError> Begin(const std::string& action, Json params,
                                              const ::vault::aws::ClientConfig& cfg);
  ::vault::aws::AwsError NoUser(const std::string& name) const;
  std::string NewKeyId(const char* prefix);
  std::string Now() const;  // RFC 3339, for CreateDate
  std::string NewUserId();

  Clock* clock_;
  mutable std::mutex mu_;
  std::vector<FakeCall> calls_;
  std::map<std::string, std::deque<::vault::aws::AwsError>> failures_;
  std::map<std::string, FakeUser> users_;
  std::map<std::string, Key> keys_;
  std::map<std::string, std::pair<std::vector<std::string>, std::map<std::string, std::string>>>
      groups_;
  std::set<std::string> virtual_mfa_;  // virtual MFA devices of the account, assigned or not
  std::set<std::string> broken_sts_;
  int reject_new_keys_ = 0;
  int counter_ = 0;
  std::vector<::vault::aws::ClientConfig> iam_configs_, sts_configs_;
};

}  // namespace vault::engines::awsengine::testing
