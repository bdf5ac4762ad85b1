// Username templates: the subset of Go's text/template (plus Vault's sdk/helper/template
// functions) that Vault's `username_template` uses to name IAM users, assumed-role sessions and
// federation tokens.
//
// Supported: text, `{{ pipeline }}`, `{{ if pipeline }}…{{ else if pipeline }}…{{ else }}…
// {{ end }}`, trim markers `{{-`/`-}}`, comments `{{/* */}}`, pipelines with `|` (the previous
// value becomes the last argument), parenthesised sub-pipelines, string ("…", `…`), integer and
// boolean literals, the fields .DisplayName, .PolicyName, .Type, and the functions
//   eq ne not and or printf (%s %d %v %q %%) truncate truncate_sha256 random unix_time
//   unix_time_millis timestamp uuid uppercase lowercase replace sha256 base64.
// Anything else (range, with, variables, unknown functions) is a parse error, as an unknown
// function is in Go; an unknown field is an execution error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "util/status.h"

namespace vault::usertemplate {

// Vault's default username template (exactly, including the double space).
inline constexpr const char* kDefaultUsernameTemplate =
    "{{ if (eq .Type \"STS\") }}{{ printf \"vault-%s-%s\"  (unix_time) (random 20) | truncate 32 "
    "}}{{ else }}{{ printf \"vault-%s-%s-%s\" (printf \"%s-%s\" (.DisplayName) (.PolicyName) | "
    "truncate 42) (unix_time) (random 20) | truncate 64 }}{{ end }}";

// The data a template sees.
struct UsernameMetadata {
  std::string type;          // "IAM" (iam_user, assumed_role) or "STS" (federation_token)
  std::string display_name;  // normalised token display name
  std::string policy_name;   // normalised Vault role name
};

// Where time and randomness come from (injectable for tests).
struct TemplateEnv {
  int64_t now_nanos = 0;
  std::function<std::string(size_t)> random_alnum;  // n characters of [A-Za-z0-9]
  std::function<std::string()> uuid;
};

// A parsed template. Immutable and thread-safe once parsed.
class UsernameTemplate {
 public:
  // kInvalidArgument with Go-like messages ("template: …") if the text does not parse.
  static Result<UsernameTemplate> Parse(const std::string& text);
  // Renders the template. kInvalidArgument on an execution error (unknown field, bad argument).
  Result<std::string> Execute(const UsernameMetadata& data, const TemplateEnv& env) const;

  struct Node;  // opaque AST

 private:
  std::shared_ptr<const std::vector<Node>> root_;
};

// kDefaultUsernameTemplate rendered without the interpreter: the name
// UsernameTemplate::Parse(kDefaultUsernameTemplate)->Execute(data, env) gives (a test compares the
// two over many inputs), for the common case of a mount that keeps Vault's default.
std::string RenderDefaultUsername(const UsernameMetadata& data, const TemplateEnv& env);

// Vault's normalisation of display and role names: every character outside
// [a-zA-Z0-9+=,.@_-] becomes '_'.
std::string NormalizeName(const std::string& in);

}  // namespace vault::usertemplate
