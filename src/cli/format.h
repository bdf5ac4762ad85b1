// Output formatting for the `vault` CLI: pure functions that turn API responses into the text
// Vault's Go CLI prints (tables, raw fields, API error messages). No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.h"

namespace vault::cli {

using TableRow = std::vector<std::string>;

// Columnizes rows like Vault's columnize config: every column but the last is padded to its
// widest cell (in UTF-8 characters) plus a 4-space gutter; cells are trimmed and an empty cell
// prints as "n/a". With underline_header, a row of dashes as long as each header cell is
// inserted after the first row. No trailing newline.
std::string FormatTable(const std::vector<TableRow>& rows, bool underline_header = true);

// A JSON value printed as Go's fmt "%v" prints the decoded value: strings raw, numbers as
// written, true/false, null as "<nil>", arrays "[a b]", objects "map[k:v k2:v2]" (sorted keys).
std::string FormatGoValue(const Json& value);

// A list of strings printed as Go's "%q" prints a []string: ["a" "b"]; [] when empty or not an
// array.
std::string FormatGoQuotedList(const Json& value);

// Vault's humanDuration: Go's Duration.String() with zero minute/second parts dropped:
// 3600 -> "1h", 2764800 -> "768h", 90 -> "1m30s", 3660 -> "1h1m", 0 -> "0s".
std::string HumanDuration(int64_t seconds);

// Reads an integer out of a JSON number or numeric string; nullopt otherwise.
std::optional<int64_t> JsonInt(const Json& value);

// The Key/Value rows of a secret (a response envelope), in the order Vault prints them:
// lease_id/lease_duration/lease_renewable when lease_id is set (lease_duration in seconds, as
// the 2015 CLI prints it), else refresh_interval when lease_duration > 0; then the auth block
// (token, token_accessor, token_duration, token_renewable, token_policies, identity_policies,
// policies, token_meta_*); then the data keys sorted, TTL-like keys (ttl, *_ttl, period,
// *_period, duration, *_duration, lease_max, ttl_max) shown as human durations. The header row
// is not included.
std::vector<TableRow> SecretRows(const Json& secret);

// "Key/Value" header + underline + SecretRows, no trailing newline.
std::string FormatSecretTable(const Json& secret);

// The rows of `vault status` / `vault operator unseal`, header row included: Seal Type,
// Initialized, Sealed, Total Shares, Threshold, [Unseal Progress "p/t", Unseal Nonce when
// sealed], Version, Build Date, Storage Type, [Cluster Name/ID], and the HA rows when `leader`
// is a sys/leader object (pass null to omit them).
std::vector<TableRow> SealStatusRows(const Json& seal, const Json& leader);

// The value printed by `-field=NAME`: a data key first, else one of the table's computed rows
// (lease_id, token, token_policies, ...). nullopt if the secret has no such field.
std::optional<std::string> SecretField(const Json& secret, std::string_view field);

// The body of an API error as Vault's Go client renders it (no trailing newline):
//   Error making API request.
//
//   URL: GET http://127.0.0.1:8200/v1/secret/foo
//   Code: 403. Errors:
//
//   * permission denied
// `body` is the raw response body; the "errors" array of a JSON object gives the bullets (none
// when it has no such array), anything else is shown verbatim.
std::string FormatApiError(std::string_view method, std::string_view url, int status,
                           std::string_view body);

// Wraps text at `width` columns on word boundaries (Vault's wrapAtLength, width 80).
std::string WrapAtLength(std::string_view text, size_t width = 80);

// Splits text into lines of at most `width` characters with minimal raggedness (the squared
// shortfall of every line but the last is minimised; a word longer than width gets a line of its
// own), as Go's github.com/kr/text Wrap does for Vault's wrapAtLengthWithPadding. Newlines in
// the text count as spaces.
std::string WrapMinimumRaggedness(std::string_view text, size_t width);

// What Vault's CLI prints on stderr for a response's warnings (one element per warning), before
// the output: "WARNING! The following warnings were returned from Vault:\n\n" and each warning
// as "  * text" wrapped to 78 columns (2 spaces of padding), followed by a blank line. "" when
// warnings is not a non-empty array.
std::string FormatWarnings(const Json& warnings);

// A value as Go's json.MarshalIndent(v, "", "  ") prints it: 2-space indent, and '<', '>', '&',
// U+2028, U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029. No trailing newline.
std::string FormatGoJson(const Json& value);

// A response envelope as Vault's CLI prints an api.Secret with -format=json: request_id,
// lease_id, lease_duration, renewable, data, warnings in that order, then auth, wrap_info (when
// not null) and mount_type (when not empty). Missing members print as their zero values.
std::string FormatSecretJson(const Json& secret);

}  // namespace vault::cli
