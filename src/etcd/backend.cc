#include "etcd/backend.h"

#include <algorithm>
#include <map>
#include <utility>

namespace vault::etcd {

std::string NormalizePrefix(std::string_view path) {
  std::string p(path);
  if (p.empty() || p.front() != '/') p.insert(p.begin(), '/');
  if (p.back() != '/') p.push_back('/');
  return p;
}

EtcdBackend::EtcdBackend(Client* client, BackendOptions options)
    : client_(client),
      prefix_(NormalizePrefix(options.path)),
      page_size_(std::max<int64_t>(1, options.page_size)),
      max_txn_ops_(std::max<size_t>(1, options.max_txn_ops)) {}

Task<Result<std::optional<std::string>>> EtcdBackend::Get(std::string_view key) {
  RangeRequest r;
  r.key = prefix_ + std::string(key);
  CO_ASSIGN_OR_RETURN(RangeResult got, co_await client_->Range(std::move(r)));
  std::optional<std::string> value;
  if (!got.kvs.empty()) value = std::move(got.kvs.front().value);
  co_return value;
}

Task<Status> EtcdBackend::Put(std::string_view key, std::string_view value) {
  std::string full = prefix_ + std::string(key);
  Status st = co_await client_->Put(std::move(full), std::string(value));
  co_return st;
}

Task<Status> EtcdBackend::Delete(std::string_view key) {
  std::string full = prefix_ + std::string(key);
  auto deleted = co_await client_->DeleteRange(std::move(full));
  co_return deleted.status();
}

Task<Status> EtcdBackend::Write(std::vector<storage::Mutation> batch) {
  // The last mutation of each key wins, as when the batch is applied in order.
  std::map<std::string, const storage::Mutation*> last;
  for (const auto& m : batch) last[m.key] = &m;
  std::vector<TxnOp> ops;
  ops.reserve(last.size());
  for (const auto& [key, m] : last) {
    TxnOp op;
    op.key = prefix_ + key;
    if (m->value) {
      op.kind = TxnOp::Kind::kPut;
      op.value = *m->value;
    } else {
      op.kind = TxnOp::Kind::kDelete;
    }
    ops.push_back(std::move(op));
  }
  for (size_t i = 0; i < ops.size(); i += max_txn_ops_) {
    TxnRequest txn;
    const size_t end = std::min(ops.size(), i + max_txn_ops_);
    txn.success.assign(std::make_move_iterator(ops.begin() + i),
                       std::make_move_iterator(ops.begin() + end));
    auto r = co_await client_->Txn(std::move(txn));
    if (!r.ok()) co_return r.status();
  }
  co_return Status();
}

Task<Result<std::vector<std::string>>> EtcdBackend::List(std::string_view prefix) {
  const std::string base = prefix_ + std::string(prefix);
  const std::string end = PrefixEnd(base);
  std::vector<std::string> out;
  RangeRequest r;
  r.key = base;
  r.range_end = end;
  r.keys_only = true;
  r.limit = page_size_;
  for (;;) {
    CO_ASSIGN_OR_RETURN(RangeResult page, co_await client_->Range(r));
    if (r.revision == 0) r.revision = page.revision;  // every page at the first one's revision
    std::string next;
    for (const auto& kv : page.kvs) {
      std::string_view rest = std::string_view(kv.key).substr(base.size());
      auto slash = rest.find('/');
      std::string child(slash == std::string_view::npos ? rest : rest.substr(0, slash + 1));
      if (child.empty()) continue;
      if (out.empty() || out.back() != child) out.push_back(child);
      // A folder's other keys need not be read: go on after its last possible key.
      next =
          slash == std::string_view::npos ? kv.key + std::string(1, '\0') : PrefixEnd(base + child);
    }
    if (!page.more || next.empty()) break;
    r.key = std::move(next);
  }
  co_return out;
}

Task<Status> EtcdBackend::Scan(std::string_view prefix, ScanFn fn) {
  const std::string base = prefix_ + std::string(prefix);
  RangeRequest r;
  r.key = base;
  r.range_end = PrefixEnd(base);
  r.limit = page_size_;
  for (;;) {
    CO_ASSIGN_OR_RETURN(RangeResult page, co_await client_->Range(r));
    if (r.revision == 0) r.revision = page.revision;
    for (const auto& kv : page.kvs) {
      if (!fn(std::string_view(kv.key).substr(prefix_.size()), kv.value)) co_return Status();
    }
    if (!page.more || page.kvs.empty()) break;
    r.key = page.kvs.back().key + std::string(1, '\0');
  }
  co_return Status();
}

}  // namespace vault::etcd
