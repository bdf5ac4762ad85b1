// The AWS Query-protocol answers as the IAM/STS client reads them: aws::ParseXml (aws/xml.h) on
// the body, then every response decoder of aws/query.h on the parsed document (with the action
// its root element names, so that each decoder gets past its root check), and ParseErrorResponse
// on the body as an error reply. No throw or crash; error messages never quote the document.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/query.h"
#include "aws/xml.h"

namespace {

void Walk(const vault::aws::XmlElement& e) {
  e.Child("member");
  e.ChildText("Arn");
  e.Members("Groups");
  e.Find({"CreateUserResult", "User"});
  for (const auto& c : e.children()) Walk(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vault::aws;
  std::string_view body(reinterpret_cast<const char*>(data), size);

  vault::net::HttpResponse reply;
  reply.status = 400;
  reply.headers.emplace_back("x-amzn-RequestId", "0c8a4a2e-2b2f-4b6c-9d6e-0f1e2d3c4b5a");
  reply.body = std::string(body);
  ParseErrorResponse(reply);

  // The client's limits (the defaults), and tight ones, whose edges short inputs can reach.
  XmlLimits tight;
  tight.max_bytes = 512;
  tight.max_depth = 4;
  tight.max_elements = 16;
  (void)ParseXml(body, tight);
  vault::Result<XmlElement> root = ParseXml(body);
  if (!root.ok()) return 0;
  Walk(*root);

  std::string action = root->name();
  const std::string suffix = "Response";
  if (action.size() > suffix.size() &&
      action.compare(action.size() - suffix.size(), suffix.size(), suffix) == 0)
    action.resize(action.size() - suffix.size());
  (void)ParseUserResponse(*root, action);
  (void)ParseEmptyResponse(*root, action);
  (void)ParseCreateAccessKeyResponse(*root);
  (void)ParseListAccessKeysResponse(*root);
  (void)ParseNameListResponse(*root, action);
  (void)ParseGetGroupPolicyResponse(*root);
  (void)ParseCredentialsResponse(*root, action);
  (void)ParseGetCallerIdentityResponse(*root);
  return 0;
}
