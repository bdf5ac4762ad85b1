#include "etcd/grpc_kv.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <utility>

#include "etcd_kv.pb.h"  // generated from etcd_kv.proto
#include "util/event_loop.h"
#include "util/thread_pool.h"

namespace vault::etcd {
namespace {

namespace pb = ::etcdserverpb;

// "http://host:port" -> "host:port" (gRPC's target); whether the member speaks TLS.
std::pair<std::string, bool> Target(const std::string& url) {
  constexpr std::string_view kHttps = "https://";
  constexpr std::string_view kHttp = "http://";
  std::string_view rest = url;
  bool tls = false;
  if (rest.starts_with(kHttps)) {
    rest.remove_prefix(kHttps.size());
    tls = true;
  } else if (rest.starts_with(kHttp)) {
    rest.remove_prefix(kHttp.size());
  }
  rest = rest.substr(0, rest.find('/'));
  return {std::string(rest), tls};
}

void ToProto(const RangeRequest& r, pb::RangeRequest* out) {
  out->set_key(r.key);
  if (!r.range_end.empty()) out->set_range_end(r.range_end);
  if (r.limit > 0) out->set_limit(r.limit);
  if (r.revision > 0) out->set_revision(r.revision);
  out->set_keys_only(r.keys_only);
  out->set_count_only(r.count_only);
  switch (r.sort) {
    case RangeRequest::Sort::kNone:
      break;
    case RangeRequest::Sort::kKeyAscend:
      out->set_sort_order(pb::RangeRequest::ASCEND);
      out->set_sort_target(pb::RangeRequest::KEY);
      break;
    case RangeRequest::Sort::kCreateAscend:
      out->set_sort_order(pb::RangeRequest::ASCEND);
      out->set_sort_target(pb::RangeRequest::CREATE);
      break;
    case RangeRequest::Sort::kCreateDescend:
      out->set_sort_order(pb::RangeRequest::DESCEND);
      out->set_sort_target(pb::RangeRequest::CREATE);
      break;
  }
  if (r.max_create_revision > 0) out->set_max_create_revision(r.max_create_revision);
}

RangeResult FromProto(pb::RangeResponse* r) {
  RangeResult out;
  out.revision = r->header().revision();
  out.more = r->more();
  out.count = r->count();
  out.kvs.reserve(r->kvs_size());
  for (pb::KeyValue& kv : *r->mutable_kvs()) {
    KeyValue k;
    k.key = std::move(*kv.mutable_key());
    k.value = std::move(*kv.mutable_value());
    k.create_revision = kv.create_revision();
    k.mod_revision = kv.mod_revision();
    k.version = kv.version();
    k.lease = kv.lease();
    out.kvs.push_back(std::move(k));
  }
  return out;
}

void ToProto(const TxnOp& op, pb::RequestOp* out) {
  switch (op.kind) {
    case TxnOp::Kind::kPut: {
      pb::PutRequest* p = out->mutable_request_put();
      p->set_key(op.key);
      p->set_value(op.value);
      if (op.lease != 0) p->set_lease(op.lease);
      break;
    }
    case TxnOp::Kind::kDelete: {
      pb::DeleteRangeRequest* d = out->mutable_request_delete_range();
      d->set_key(op.key);
      if (!op.range_end.empty()) d->set_range_end(op.range_end);
      break;
    }
    case TxnOp::Kind::kRange: {
      pb::RangeRequest* r = out->mutable_request_range();
      r->set_key(op.key);
      if (!op.range_end.empty()) r->set_range_end(op.range_end);
      break;
    }
  }
}

void ToProto(const Compare& c, pb::Compare* out) {
  out->set_key(c.key);
  out->set_target(static_cast<pb::Compare::CompareTarget>(static_cast<int>(c.target)));
  out->set_result(static_cast<pb::Compare::CompareResult>(static_cast<int>(c.result)));
  switch (c.target) {
    case Compare::Target::kVersion:
      out->set_version(c.number);
      break;
    case Compare::Target::kCreate:
      out->set_create_revision(c.number);
      break;
    case Compare::Target::kMod:
      out->set_mod_revision(c.number);
      break;
    case Compare::Target::kValue:
      out->set_value(c.value);
      break;
    case Compare::Target::kLease:
      out->set_lease(c.number);
      break;
  }
}

// The targets and results above are numbered as etcd numbers them.
static_assert(static_cast<int>(Compare::Target::kLease) == pb::Compare::LEASE);
static_assert(static_cast<int>(Compare::Result::kNotEqual) == pb::Compare::NOT_EQUAL);

// An attempt's outcome with its value converted (the code and message kept).
template <typename To, typename From, typename F>
Attempt<To> Convert(Attempt<From>& a, F convert) {
  Attempt<To> out;
  out.code = a.code;
  out.message = std::move(a.message);
  if (a.value) out.value.emplace(convert(*a.value));
  return out;
}

}  // namespace

struct GrpcKv::Impl {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  // Resumes the calls of callers without an event loop: never on gRPC's thread, inside its
  // completion (the coroutine would go on to finish, and free, the call gRPC is completing).
  ThreadPool resume{1, "etcd-grpc"};

  // One unary call of `method` on `member`; `req` is moved into the call, which owns it (and the
  // answer) until gRPC is done with both.
  template <typename Req, typename Resp>
  Task<Attempt<Resp>> Unary(size_t member, const char* method, Req req, std::string token,
                            int64_t timeout_ms) {
    struct Call {
      grpc::ClientContext ctx;
      Req req;
      Resp resp;
      grpc::Status status;
      // Released before the call starts, acquired by its completion: what this thread wrote
      // before (the awaiting frame) happens-before the completion, through a synchronization
      // ThreadSanitizer sees (gRPC's own is in uninstrumented libraries).
      std::atomic<bool> started{false};
    };
    auto call = std::make_shared<Call>();
    call->req = std::move(req);
    call->ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(std::max<int64_t>(timeout_ms, 1)));
    if (!token.empty()) call->ctx.AddMetadata("token", token);
    grpc::TemplatedGenericStub<Req, Resp> stub(channels[member % channels.size()]);
    EventLoop* loop = EventLoop::Current();
    Executor* resume_on = &resume;
    Call* c = call.get();
    // Captures by reference only (util/task.h's GCC 12 note). The coroutine owns the call; the
    // completion only records the status and hands the coroutine to its loop (or to `resume`).
    bool ok = co_await AwaitCallback<bool>([&](std::function<void(bool)> done) {
      c->started.store(true, std::memory_order_release);
      stub.UnaryCall(&c->ctx, method, grpc::StubOptions(), &c->req, &c->resp,
                     [c, done, loop, resume_on](grpc::Status status) {
                       (void)c->started.load(std::memory_order_acquire);
                       c->status = std::move(status);
                       if (loop != nullptr && !loop->stopped()) {
                         loop->Post([done] { done(true); });
                       } else {
                         resume_on->Post([done] { done(true); });
                       }
                     });
    });
    (void)ok;
    Attempt<Resp> out;
    if (call->status.ok()) {
      out.value.emplace(std::move(call->resp));
    } else {
      out.code = static_cast<int>(call->status.error_code());
      out.message = call->status.error_message();
      if (out.message.empty()) out.message = "gRPC status " + std::to_string(out.code);
    }
    co_return out;
  }
};

GrpcKv::GrpcKv(const std::vector<std::string>& endpoints, const std::string& ca_pem)
    : impl_(std::make_unique<Impl>()) {
  for (const std::string& url : endpoints) {
    auto [target, tls] = Target(url);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // a page of a ranged read may be large
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    // Reconnect soon after a member comes back (gRPC's default backoff grows to 120 s).
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (tls) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ca_pem;
      creds = grpc::SslCredentials(ssl);
    } else {
      creds = grpc::InsecureChannelCredentials();
    }
    impl_->channels.push_back(grpc::CreateCustomChannel(target, creds, args));
  }
}

GrpcKv::~GrpcKv() = default;

Task<Attempt<RangeResult>> GrpcKv::Range(size_t member, const RangeRequest& request,
                                         std::string token, int64_t timeout_ms) {
  pb::RangeRequest req;
  ToProto(request, &req);
  auto a = co_await impl_->Unary<pb::RangeRequest, pb::RangeResponse>(
      member, "/etcdserverpb.KV/Range", std::move(req), std::move(token), timeout_ms);
  co_return Convert<RangeResult>(a, [](pb::RangeResponse& r) { return FromProto(&r); });
}

Task<Attempt<bool>> GrpcKv::Put(size_t member, const std::string& key, const std::string& value,
                                int64_t lease, std::string token, int64_t timeout_ms) {
  pb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  if (lease != 0) req.set_lease(lease);
  auto a = co_await impl_->Unary<pb::PutRequest, pb::PutResponse>(
      member, "/etcdserverpb.KV/Put", std::move(req), std::move(token), timeout_ms);
  co_return Convert<bool>(a, [](pb::PutResponse&) { return true; });
}

Task<Attempt<int64_t>> GrpcKv::DeleteRange(size_t member, const std::string& key,
                                           const std::string& range_end, std::string token,
                                           int64_t timeout_ms) {
  pb::DeleteRangeRequest req;
  req.set_key(key);
  if (!range_end.empty()) req.set_range_end(range_end);
  auto a = co_await impl_->Unary<pb::DeleteRangeRequest, pb::DeleteRangeResponse>(
      member, "/etcdserverpb.KV/DeleteRange", std::move(req), std::move(token), timeout_ms);
  co_return Convert<int64_t>(a, [](pb::DeleteRangeResponse& r) { return r.deleted(); });
}

Task<Attempt<TxnResult>> GrpcKv::Txn(size_t member, const TxnRequest& request, std::string token,
                                     int64_t timeout_ms) {
  pb::TxnRequest req;
  for (const Compare& c : request.compare) ToProto(c, req.add_compare());
  for (const TxnOp& op : request.success) ToProto(op, req.add_success());
  for (const TxnOp& op : request.failure) ToProto(op, req.add_failure());
  auto a = co_await impl_->Unary<pb::TxnRequest, pb::TxnResponse>(
      member, "/etcdserverpb.KV/Txn", std::move(req), std::move(token), timeout_ms);
  co_return Convert<TxnResult>(a, [](pb::TxnResponse& t) {
    TxnResult r;
    r.revision = t.header().revision();
    r.succeeded = t.succeeded();
    for (pb::ResponseOp& op : *t.mutable_responses()) {
      if (op.has_response_range()) r.ranges.push_back(FromProto(op.mutable_response_range()));
    }
    return r;
  });
}

}  // namespace vault::etcd
