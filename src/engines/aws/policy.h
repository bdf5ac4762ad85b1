// IAM policy documents: local validation before a document is stored in a role (so a bad policy
// is a 400 at role write, not an IAM user half-created at issue time, hashicorp/vault#16325),
// compaction as Go's json.Compact does it (key order preserved), and the merge of group inline
// policies into one session policy for STS credential types.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace vault::engines::awsengine {

// Removes insignificant whitespace, keeping key order and string contents byte for byte.
// kInvalidArgument if `json` is not one valid JSON value.
Result<std::string> CompactJson(const std::string& json);

// Checks the grammar AWS applies to identity and session policies: a JSON object with optional
// "Version" ("2012-10-17" or "2008-10-17") and "Id", and a "Statement" (object or non-empty
// list) whose entries have Effect Allow/Deny, exactly one of Action/NotAction, exactly one of
// Resource/NotResource, no Principal, actions "*" or "service:name", resources "*" or ARNs, and
// an object Condition. Returns the compacted document, or kInvalidArgument with the reason.
Result<std::string> ValidatePolicyDocument(const std::string& document);

// Merges policy documents (each already valid JSON) into one
// {"Version":"2012-10-17","Statement":[...]} by concatenating their statements; empty inputs are
// skipped. Returns "" when there is nothing to merge.
Result<std::string> MergePolicyDocuments(const std::vector<std::string>& documents);

// True if `arn` parses as arn:partition:service:region:account:resource.
struct Arn {
  std::string partition, service, region, account, resource;
};
Result<Arn> ParseArn(const std::string& arn);

}  // namespace vault::engines::awsengine
