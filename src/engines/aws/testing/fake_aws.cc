#include "engines/aws/testing/fake_aws.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace vault::engines::awsengine::testing {

namespace awsapi = ::vault::aws;
using awsapi::AwsError;
using awsapi::Empty;
using awsapi::Outcome;

FakeAws::FakeAws(Clock* clock) : clock_(clock) {
  FakeUser root;
  root.name = kRootUser;
  root.id = NewUserId();
  root.path = "/";
  root.keys.push_back(kRootAccessKey);
  users_[root.name] = root;
  keys_[kRootAccessKey] = Key{kRootUser, kRootSecretKey, false, Now()};
}

AwsError FakeAws::Error(const std::string& code, int http_status, const std::string& message) {
  AwsError e;
  e.code = code;
  e.message = message;
  e.http_status = http_status;
  e.request_id = "req-fake";
  e.throttled = code == "Throttling";
  return e;
}

AwsError FakeAws::NoUser(const std::string& name) const {
  return Error("NoSuchEntity", 404, "The user with name " + name + " cannot be found.");
}

std::string FakeAws::NewKeyId(const char* prefix) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%016d", prefix, ++counter_);
  return buf;
}

std::string FakeAws::Now() const { return FormatRfc3339Nano(clock_->NowNanos()); }

std::string FakeAws::NewUserId() { return NewKeyId("AIDA"); }

std::optional<AwsError> FakeAws::Begin(const std::string& action, Json params,
                                       const awsapi::ClientConfig& cfg) {
  calls_.push_back({action, std::move(params), cfg.credentials.access_key_id, &cfg});
  auto it = failures_.find(action);
  if (it != failures_.end() && !it->second.empty()) {
    AwsError e = it->second.front();
    it->second.pop_front();
    return e;
  }
  auto key = keys_.find(cfg.credentials.access_key_id);
  if (key == keys_.end() || key->second.secret != cfg.credentials.secret_access_key)
    return Error("InvalidClientTokenId", 403,
                 "The security token included in the request is invalid.");
  return std::nullopt;
}

void FakeAws::FailNext(const std::string& action, AwsError error, int times) {
  std::lock_guard l(mu_);
  for (int i = 0; i < times; ++i) failures_[action].push_back(error);
}

void FakeAws::RejectNewKeysFor(int probes) {
  std::lock_guard l(mu_);
  reject_new_keys_ = probes;
}

void FakeAws::BreakStsEndpoint(const std::string& endpoint) {
  std::lock_guard l(mu_);
  broken_sts_.insert(endpoint);
}

void FakeAws::AddGroup(const std::string& name, std::vector<std::string> attached_arns,
                       std::map<std::string, std::string> inline_policies) {
  std::lock_guard l(mu_);
  groups_[name] = {std::move(attached_arns), std::move(inline_policies)};
}

void FakeAws::AddUser(const FakeUser& user) {
  std::lock_guard l(mu_);
  FakeUser& u = users_[user.name] = user;
  if (u.id.empty()) u.id = NewUserId();
  for (const auto& serial : user.mfa_devices)
    if (serial.starts_with("arn:")) virtual_mfa_.insert(serial);
  for (const auto& k : user.keys) keys_[k] = Key{user.name, "secret-" + k, false, Now()};
}

std::string FakeAws::AddKey(const std::string& user) {
  std::lock_guard l(mu_);
  std::string id = NewKeyId("AKIA");
  users_[user].keys.push_back(id);
  keys_[id] = Key{user, "secret-" + id, false, Now()};
  return id;
}

void FakeAws::RemoveUser(const std::string& name) {
  std::lock_guard l(mu_);
  auto it = users_.find(name);
  if (it == users_.end()) return;
  for (const auto& k : it->second.keys) keys_.erase(k);
  users_.erase(it);
}

std::vector<std::string> FakeAws::keys_of(const std::string& user) const {
  std::lock_guard l(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) return {};
  return it->second.keys;
}

void FakeAws::SetLoginProfile(const std::string& user, bool on) {
  std::lock_guard l(mu_);
  users_[user].login_profile = on;
}

std::string FakeAws::AddMfaDevice(const std::string& user, bool is_virtual) {
  std::lock_guard l(mu_);
  std::string serial = is_virtual
                           ? std::string("arn:aws:iam::") + kAccount + ":mfa/" + NewKeyId("dev")
                           : NewKeyId("GAHT");
  if (is_virtual) virtual_mfa_.insert(serial);
  users_[user].mfa_devices.push_back(serial);
  return serial;
}

std::string FakeAws::AddSigningCertificate(const std::string& user) {
  std::lock_guard l(mu_);
  std::string id = NewKeyId("CERTIFICATE");
  users_[user].signing_certificates.push_back(id);
  return id;
}

std::string FakeAws::AddSshPublicKey(const std::string& user) {
  std::lock_guard l(mu_);
  std::string id = NewKeyId("APKA");
  users_[user].ssh_public_keys.push_back(id);
  return id;
}

std::string FakeAws::AddServiceCredential(const std::string& user) {
  std::lock_guard l(mu_);
  std::string id = NewKeyId("ACCA");
  users_[user].service_credentials.push_back(id);
  return id;
}

bool FakeAws::VirtualMfaDeviceExists(const std::string& serial) const {
  std::lock_guard l(mu_);
  return virtual_mfa_.count(serial) > 0;
}

std::vector<FakeCall> FakeAws::calls() const {
  std::lock_guard l(mu_);
  return calls_;
}

std::vector<std::string> FakeAws::actions() const {
  std::lock_guard l(mu_);
  std::vector<std::string> out;
  for (const auto& c : calls_) out.push_back(c.action);
  return out;
}

void FakeAws::ClearCalls() {
  std::lock_guard l(mu_);
  calls_.clear();
}

bool FakeAws::HasUser(const std::string& name) const {
  std::lock_guard l(mu_);
  return users_.count(name) > 0;
}

std::optional<FakeUser> FakeAws::user(const std::string& name) const {
  std::lock_guard l(mu_);
  auto it = users_.find(name);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

size_t FakeAws::user_count() const {
  std::lock_guard l(mu_);
  return users_.size() - (users_.count(kRootUser) ? 1 : 0);
}

std::vector<awsapi::ClientConfig> FakeAws::iam_configs() const {
  std::lock_guard l(mu_);
  return iam_configs_;
}

std::vector<awsapi::ClientConfig> FakeAws::sts_configs() const {
  std::lock_guard l(mu_);
  return sts_configs_;
}

bool FakeAws::KeyExists(const std::string& key_id) const {
  std::lock_guard l(mu_);
  return keys_.count(key_id) > 0;
}

// ---------------------------------------------------------------------------------------------

class FakeIam : public awsapi::IamApi {
 public:
  FakeIam(std::shared_ptr<FakeAws> aws, awsapi::ClientConfig cfg)
      : aws_(std::move(aws)), cfg_(std::move(cfg)) {}

  Task<Outcome<awsapi::User>> CreateUser(awsapi::CreateUserInput in) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("CreateUser",
                             {{"UserName", in.user_name},
                              {"Path", in.path},
                              {"PermissionsBoundary", in.permissions_boundary_arn}},
                             cfg_))
      co_return *e;
    if (aws_->users_.count(in.user_name))
      co_return FakeAws::Error("EntityAlreadyExists", 409,
                               "User with name " + in.user_name + " already exists.");
    if (in.user_name.empty() || in.user_name.size() > 64)
      co_return FakeAws::Error("ValidationError", 400,
                               "1 validation error detected: Value at 'userName' failed to "
                               "satisfy constraint: Member must have length less than or equal "
                               "to 64");
    FakeUser u;
    u.name = in.user_name;
    u.path = in.path.empty() ? "/" : in.path;
    u.permissions_boundary_arn = in.permissions_boundary_arn;
    u.tags = in.tags;
    u.id = aws_->NewUserId();
    aws_->users_[u.name] = u;
    co_return UserOf(u);
  }

  Task<Outcome<awsapi::User>> GetUser(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("GetUser", {{"UserName", user_name}}, cfg_)) co_return *e;
    if (user_name.empty()) user_name = aws_->keys_[cfg_.credentials.access_key_id].user;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    co_return UserOf(it->second);
  }

  Task<Outcome<Empty>> DeleteUser(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeleteUser", {{"UserName", user_name}}, cfg_)) co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    const FakeUser& u = it->second;
    const char* conflict = u.login_profile                   ? "must delete login profile first"
                           : !u.keys.empty()                 ? "must delete access keys first"
                           : !u.signing_certificates.empty() ? "must delete certificates first"
                           : !u.ssh_public_keys.empty() || !u.service_credentials.empty()
                               ? "must remove referenced objects first"
                           : !u.mfa_devices.empty()     ? "must delete MFA device first"
                           : !u.inline_policies.empty() ? "must delete policies first"
                           : !u.attached.empty()        ? "must detach all policies first"
                           : !u.groups.empty()          ? "must remove users from group first"
                                                        : nullptr;
    if (conflict != nullptr)
      co_return FakeAws::Error("DeleteConflict", 409,
                               std::string("Cannot delete entity, ") + conflict + ".");
    aws_->users_.erase(it);
    co_return Empty{};
  }

  Task<Outcome<Empty>> TagUser(std::string user_name, awsapi::Tags tags) override {
    std::lock_guard l(aws_->mu_);
    Json t = Json::array();
    for (auto& [k, v] : tags) t.push_back({k, v});
    if (auto e = aws_->Begin("TagUser", {{"UserName", user_name}, {"Tags", t}}, cfg_)) co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    for (auto& kv : tags) it->second.tags.push_back(kv);
    co_return Empty{};
  }

  Task<Outcome<Empty>> PutUserPolicy(std::string user_name, std::string policy_name,
                                     std::string policy_document) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("PutUserPolicy",
                             {{"UserName", user_name},
                              {"PolicyName", policy_name},
                              {"PolicyDocument", policy_document}},
                             cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!ParseJson(policy_document).ok())
      co_return FakeAws::Error("MalformedPolicyDocument", 400, "Syntax errors in policy.");
    it->second.inline_policies[policy_name] = policy_document;
    co_return Empty{};
  }

  Task<Outcome<Empty>> DeleteUserPolicy(std::string user_name, std::string policy_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeleteUserPolicy",
                             {{"UserName", user_name}, {"PolicyName", policy_name}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!it->second.inline_policies.erase(policy_name))
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The user policy " + policy_name + " cannot be found.");
    co_return Empty{};
  }

  Task<Outcome<std::vector<std::string>>> ListUserPolicies(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e =
            aws_->Begin("ListUserPolicies", {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    std::vector<std::string> out;
    for (auto& [k, v] : it->second.inline_policies) out.push_back(k);
    co_return out;
  }

  Task<Outcome<Empty>> AttachUserPolicy(std::string user_name, std::string policy_arn) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("AttachUserPolicy",
                             {{"UserName", user_name}, {"PolicyArn", policy_arn}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    auto& a = it->second.attached;
    if (std::find(a.begin(), a.end(), policy_arn) == a.end()) a.push_back(policy_arn);
    co_return Empty{};
  }

  Task<Outcome<Empty>> DetachUserPolicy(std::string user_name, std::string policy_arn) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DetachUserPolicy",
                             {{"UserName", user_name}, {"PolicyArn", policy_arn}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    auto& a = it->second.attached;
    auto pos = std::find(a.begin(), a.end(), policy_arn);
    if (pos == a.end())
      co_return FakeAws::Error("NoSuchEntity", 404, "Policy " + policy_arn + " was not found.");
    a.erase(pos);
    co_return Empty{};
  }

  Task<Outcome<std::vector<std::string>>> ListAttachedUserPolicies(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListAttachedUserPolicies",
                             {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    co_return it->second.attached;
  }

  Task<Outcome<Empty>> AddUserToGroup(std::string group_name, std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("AddUserToGroup", {{"GroupName", group_name}, {"UserName", user_name}},
                             cfg_))
      co_return *e;
    if (!aws_->groups_.count(group_name))
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The group with name " + group_name + " cannot be found.");
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    it->second.groups.insert(group_name);
    co_return Empty{};
  }

  Task<Outcome<Empty>> RemoveUserFromGroup(std::string group_name, std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("RemoveUserFromGroup",
                             {{"GroupName", group_name}, {"UserName", user_name}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!it->second.groups.erase(group_name))
      co_return FakeAws::Error("NoSuchEntity", 404, "User is not in group " + group_name);
    co_return Empty{};
  }

  Task<Outcome<std::vector<std::string>>> ListGroupsForUser(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e =
            aws_->Begin("ListGroupsForUser", {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    co_return std::vector<std::string>(it->second.groups.begin(), it->second.groups.end());
  }

  Task<Outcome<awsapi::AccessKey>> CreateAccessKey(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("CreateAccessKey", {{"UserName", user_name}}, cfg_)) co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (it->second.keys.size() >= 2)
      co_return FakeAws::Error("LimitExceeded", 409,
                               "Cannot exceed quota for AccessKeysPerUser: 2");
    awsapi::AccessKey k;
    k.user_name = user_name;
    k.access_key_id = aws_->NewKeyId("AKIA");
    k.secret_access_key = "s3cr3t/" + k.access_key_id + "/xxxxxxxxxxxxxx";
    k.status = "Active";
    k.create_date = aws_->Now();
    it->second.keys.push_back(k.access_key_id);
    aws_->keys_[k.access_key_id] =
        FakeAws::Key{user_name, k.secret_access_key, true, k.create_date};
    co_return k;
  }

  Task<Outcome<Empty>> DeleteAccessKey(std::string user_name, std::string access_key_id) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeleteAccessKey",
                             {{"UserName", user_name}, {"AccessKeyId", access_key_id}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    auto& keys = it->second.keys;
    auto pos = std::find(keys.begin(), keys.end(), access_key_id);
    if (pos == keys.end())
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The Access Key with id " + access_key_id + " cannot be found.");
    keys.erase(pos);
    aws_->keys_.erase(access_key_id);
    co_return Empty{};
  }

  Task<Outcome<std::vector<awsapi::AccessKey>>> ListAccessKeys(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListAccessKeys", {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    std::vector<awsapi::AccessKey> out;
    for (const auto& id : it->second.keys) {
      awsapi::AccessKey k;
      k.user_name = user_name;
      k.access_key_id = id;
      k.status = "Active";
      k.create_date = aws_->keys_[id].create_date;
      out.push_back(k);
    }
    co_return out;
  }

  Task<Outcome<Empty>> DeleteLoginProfile(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeleteLoginProfile", {{"UserName", user_name}}, cfg_)) co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!it->second.login_profile)
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "Login Profile for User " + user_name + " cannot be found.");
    it->second.login_profile = false;
    co_return Empty{};
  }

  Task<Outcome<std::vector<awsapi::MfaDevice>>> ListMFADevices(std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListMFADevices", {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    std::vector<awsapi::MfaDevice> out;
    for (const auto& serial : it->second.mfa_devices)
      out.push_back({user_name, serial, "2023-11-14T22:13:20Z"});
    co_return out;
  }

  Task<Outcome<Empty>> DeactivateMFADevice(std::string user_name,
                                           std::string serial_number) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeactivateMFADevice",
                             {{"UserName", user_name}, {"SerialNumber", serial_number}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!Erase(it->second.mfa_devices, serial_number))
      co_return FakeAws::Error(
          "NoSuchEntity", 404,
          "MFA Device with serial number " + serial_number + " does not exist.");
    co_return Empty{};
  }

  Task<Outcome<Empty>> DeleteVirtualMFADevice(std::string serial_number) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeleteVirtualMFADevice", {{"SerialNumber", serial_number}}, cfg_))
      co_return *e;
    if (!aws_->virtual_mfa_.count(serial_number))
      co_return FakeAws::Error(
          "NoSuchEntity", 404,
          "VirtualMFADevice with serial number " + serial_number + " doesn't exist.");
    for (const auto& [name, u] : aws_->users_) {
      if (std::find(u.mfa_devices.begin(), u.mfa_devices.end(), serial_number) !=
          u.mfa_devices.end())
        co_return FakeAws::Error("DeleteConflict", 409, "MFA Device is still in use.");
    }
    aws_->virtual_mfa_.erase(serial_number);
    co_return Empty{};
  }

  Task<Outcome<std::vector<awsapi::SigningCertificate>>> ListSigningCertificates(
      std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListSigningCertificates",
                             {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    std::vector<awsapi::SigningCertificate> out;
    for (const auto& id : it->second.signing_certificates)
      out.push_back({user_name, id, "Active", "2023-11-14T22:13:20Z"});
    co_return out;
  }

  Task<Outcome<Empty>> DeleteSigningCertificate(std::string user_name,
                                                std::string certificate_id) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("DeleteSigningCertificate",
                             {{"UserName", user_name}, {"CertificateId", certificate_id}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!Erase(it->second.signing_certificates, certificate_id))
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The Certificate with id " + certificate_id + " cannot be found.");
    co_return Empty{};
  }

  Task<Outcome<std::vector<awsapi::SshPublicKey>>> ListSSHPublicKeys(
      std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e =
            aws_->Begin("ListSSHPublicKeys", {{"UserName", user_name}, {"MaxItems", 1000}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    std::vector<awsapi::SshPublicKey> out;
    for (const auto& id : it->second.ssh_public_keys)
      out.push_back({user_name, id, "Active", "2023-11-14T22:13:20Z"});
    co_return out;
  }

  Task<Outcome<Empty>> DeleteSSHPublicKey(std::string user_name,
                                          std::string ssh_public_key_id) override {
    std::lock_guard l(aws_->mu_);
    if (auto e =
            aws_->Begin("DeleteSSHPublicKey",
                        {{"UserName", user_name}, {"SSHPublicKeyId", ssh_public_key_id}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!Erase(it->second.ssh_public_keys, ssh_public_key_id))
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The Public Key with id " + ssh_public_key_id + " cannot be found.");
    co_return Empty{};
  }

  Task<Outcome<std::vector<awsapi::ServiceSpecificCredential>>> ListServiceSpecificCredentials(
      std::string user_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListServiceSpecificCredentials", {{"UserName", user_name}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    std::vector<awsapi::ServiceSpecificCredential> out;
    for (const auto& id : it->second.service_credentials) {
      out.push_back({user_name, id, "codecommit.amazonaws.com", user_name + "-at-" + kAccount,
                     "Active", "2023-11-14T22:13:20Z"});
    }
    co_return out;
  }

  Task<Outcome<Empty>> DeleteServiceSpecificCredential(std::string user_name,
                                                       std::string credential_id) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin(
            "DeleteServiceSpecificCredential",
            {{"UserName", user_name}, {"ServiceSpecificCredentialId", credential_id}}, cfg_))
      co_return *e;
    auto it = aws_->users_.find(user_name);
    if (it == aws_->users_.end()) co_return aws_->NoUser(user_name);
    if (!Erase(it->second.service_credentials, credential_id))
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "No such credential " + credential_id + " exists.");
    co_return Empty{};
  }

  Task<Outcome<std::vector<std::string>>> ListAttachedGroupPolicies(
      std::string group_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListAttachedGroupPolicies", {{"GroupName", group_name}}, cfg_))
      co_return *e;
    auto it = aws_->groups_.find(group_name);
    if (it == aws_->groups_.end())
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The group with name " + group_name + " cannot be found.");
    co_return it->second.first;
  }

  Task<Outcome<std::vector<std::string>>> ListGroupPolicies(std::string group_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("ListGroupPolicies", {{"GroupName", group_name}}, cfg_)) co_return *e;
    auto it = aws_->groups_.find(group_name);
    if (it == aws_->groups_.end())
      co_return FakeAws::Error("NoSuchEntity", 404,
                               "The group with name " + group_name + " cannot be found.");
    std::vector<std::string> out;
    for (auto& [k, v] : it->second.second) out.push_back(k);
    co_return out;
  }

  Task<Outcome<std::string>> GetGroupPolicy(std::string group_name,
                                            std::string policy_name) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("GetGroupPolicy",
                             {{"GroupName", group_name}, {"PolicyName", policy_name}}, cfg_))
      co_return *e;
    auto it = aws_->groups_.find(group_name);
    if (it == aws_->groups_.end() || !it->second.second.count(policy_name))
      co_return FakeAws::Error("NoSuchEntity", 404, "The group policy cannot be found.");
    co_return it->second.second.at(policy_name);
  }

 private:
  // Removes `id` from `ids`; false if it was not there.
  static bool Erase(std::vector<std::string>& ids, const std::string& id) {
    auto pos = std::find(ids.begin(), ids.end(), id);
    if (pos == ids.end()) return false;
    ids.erase(pos);
    return true;
  }

  static awsapi::User UserOf(const FakeUser& u) {
    awsapi::User out;
    out.user_name = u.name;
    out.user_id = u.id;
    out.arn = std::string("arn:aws:iam::") + kAccount + ":user" + u.path + u.name;
    out.path = u.path;
    out.permissions_boundary_arn = u.permissions_boundary_arn;
    out.create_date = "2023-11-14T22:13:20Z";
    return out;
  }

  std::shared_ptr<FakeAws> aws_;
  awsapi::ClientConfig cfg_;
};

class FakeSts : public awsapi::StsApi {
 public:
  FakeSts(std::shared_ptr<FakeAws> aws, awsapi::ClientConfig cfg)
      : aws_(std::move(aws)), cfg_(std::move(cfg)) {}

  Task<Outcome<awsapi::TemporaryCredentials>> AssumeRole(awsapi::AssumeRoleInput in) override {
    std::lock_guard l(aws_->mu_);
    Json tags = Json::array();
    for (auto& [k, v] : in.tags) tags.push_back({k, v});
    if (auto e = aws_->Begin("AssumeRole",
                             {{"RoleArn", in.role_arn},
                              {"RoleSessionName", in.role_session_name},
                              {"DurationSeconds", in.duration_seconds},
                              {"Policy", in.policy},
                              {"PolicyArns", in.policy_arns},
                              {"Tags", tags},
                              {"ExternalId", in.external_id}},
                             cfg_))
      co_return *e;
    auto tc = Temp(in.duration_seconds);
    std::string role = in.role_arn.substr(in.role_arn.rfind('/') + 1);
    tc.assumed_role_arn = std::string("arn:aws:sts::") + kAccount + ":assumed-role/" + role + "/" +
                          in.role_session_name;
    co_return tc;
  }

  Task<Outcome<awsapi::TemporaryCredentials>> GetFederationToken(
      awsapi::GetFederationTokenInput in) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("GetFederationToken",
                             {{"Name", in.name},
                              {"DurationSeconds", in.duration_seconds},
                              {"Policy", in.policy},
                              {"PolicyArns", in.policy_arns}},
                             cfg_))
      co_return *e;
    if (in.name.size() < 2 || in.name.size() > 32)
      co_return FakeAws::Error("ValidationError", 400,
                               "Value at 'name' failed to satisfy constraint: Member must have "
                               "length less than or equal to 32");
    auto tc = Temp(in.duration_seconds);
    tc.federated_user_arn = std::string("arn:aws:sts::") + kAccount + ":federated-user/" + in.name;
    co_return tc;
  }

  Task<Outcome<awsapi::TemporaryCredentials>> GetSessionToken(
      awsapi::GetSessionTokenInput in) override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("GetSessionToken",
                             {{"DurationSeconds", in.duration_seconds},
                              {"SerialNumber", in.serial_number},
                              {"TokenCode", in.token_code}},
                             cfg_))
      co_return *e;
    co_return Temp(in.duration_seconds);
  }

  Task<Outcome<awsapi::CallerIdentity>> GetCallerIdentity() override {
    std::lock_guard l(aws_->mu_);
    if (auto e = aws_->Begin("GetCallerIdentity", Json::object(), cfg_)) co_return *e;
    if (aws_->broken_sts_.count(cfg_.sts_endpoint))
      co_return FakeAws::Error("RequestError", 0, "connection refused");
    auto& key = aws_->keys_[cfg_.credentials.access_key_id];
    if (key.fresh && aws_->reject_new_keys_ > 0) {
      --aws_->reject_new_keys_;
      co_return FakeAws::Error("InvalidClientTokenId", 403,
                               "The security token included in the request is invalid.");
    }
    awsapi::CallerIdentity id;
    id.account = kAccount;
    id.arn = std::string("arn:aws:iam::") + kAccount + ":user/" + key.user;
    id.user_id = aws_->users_.count(key.user) ? aws_->users_[key.user].id : "AIDA" + key.user;
    co_return id;
  }

 private:
  awsapi::TemporaryCredentials Temp(int64_t duration) {
    awsapi::TemporaryCredentials tc;
    tc.credentials.access_key_id = aws_->NewKeyId("ASIA");
    tc.credentials.secret_access_key = "tempsecret-" + tc.credentials.access_key_id;
    tc.credentials.session_token = "FwoGsession-" + tc.credentials.access_key_id;
    tc.expiration_unix = aws_->clock_->NowSeconds() + (duration > 0 ? duration : 3600);
    tc.expiration = FormatRfc3339Nano(tc.expiration_unix * 1000000000LL);
    return tc;
  }

  std::shared_ptr<FakeAws> aws_;
  awsapi::ClientConfig cfg_;
};

std::shared_ptr<awsapi::IamApi> FakeAws::NewIam(const awsapi::ClientConfig& cfg) {
  {
    std::lock_guard l(mu_);
    iam_configs_.push_back(cfg);
  }
  auto client = std::make_shared<FakeIam>(shared_from_this(), cfg);
  if (auto hook = std::exchange(during_new_client, nullptr)) hook();
  return client;
}

std::shared_ptr<awsapi::StsApi> FakeAws::NewSts(const awsapi::ClientConfig& cfg) {
  {
    std::lock_guard l(mu_);
    sts_configs_.push_back(cfg);
  }
  auto client = std::make_shared<FakeSts>(shared_from_this(), cfg);
  if (auto hook = std::exchange(during_new_client, nullptr)) hook();
  return client;
}

}  // namespace vault::engines::awsengine::testing
