#include "etcd/backend.h"

#include <algorithm>
#include <map>
#include <utility>

#include "etcd/ha_lock.h"

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
      keys_page_size_(std::max<int64_t>(1, options.keys_page_size)),
      max_txn_ops_(std::max<size_t>(1, options.max_txn_ops)),
      max_txns_in_flight_(std::max(1, options.max_txns_in_flight)),
      max_group_bytes_(options.max_group_bytes) {
  cache_.capacity = options.cache_bytes;
  // An HA server caches only while it holds the lock: before, another server may initialize or
  // write the store.
  ha_enabled_ = options.ha_enabled;
  cache_.Clear(/*enabled=*/!ha_enabled_);
  if (options.ha_enabled) {
    lock_ = std::make_unique<EtcdHaLock>(client_, this, prefix_ + "core/lock",
                                         std::max<int64_t>(1, options.lock_timeout_s));
  }
}

EtcdBackend::~EtcdBackend() = default;

storage::HaLock* EtcdBackend::Lock() { return lock_.get(); }

std::optional<std::optional<std::string>> EtcdBackend::Cache::Lookup(const std::string& key,
                                                                     uint64_t* epoch_out) {
  std::lock_guard lock(mu);
  *epoch_out = epoch;
  if (!enabled || capacity == 0) return std::nullopt;
  auto it = slots.find(key);
  if (it == slots.end()) return std::nullopt;
  order.splice(order.begin(), order, it->second.pos);
  return it->second.value;
}

void EtcdBackend::Cache::Insert(const std::string& key, std::optional<std::string> value,
                                uint64_t read_epoch) {
  std::lock_guard lock(mu);
  if (!enabled || capacity == 0 || read_epoch != epoch) return;
  Set(key, std::move(value));
}

void EtcdBackend::Cache::BeginWrite() {
  std::lock_guard lock(mu);
  ++epoch;
}

void EtcdBackend::Cache::EndWrite(std::span<const TxnOp> ops, bool ok) {
  std::lock_guard lock(mu);
  ++epoch;
  for (const auto& op : ops) {
    if (!ok || !enabled || capacity == 0) {
      Erase(op.key);
    } else if (op.kind == TxnOp::Kind::kPut) {
      Set(op.key, op.value);
    } else {
      Set(op.key, std::nullopt);
    }
  }
}

void EtcdBackend::Cache::Clear(bool enable) {
  std::lock_guard lock(mu);
  ++epoch;
  slots.clear();
  order.clear();
  bytes = 0;
  enabled = enable;
}

void EtcdBackend::Cache::Set(const std::string& key, std::optional<std::string> value) {
  auto it = slots.find(key);
  if (it != slots.end()) {
    bytes -= it->first.size() + (it->second.value ? it->second.value->size() : 0);
    it->second.value = std::move(value);
    order.splice(order.begin(), order, it->second.pos);
  } else {
    order.push_front(key);
    it = slots.emplace(key, Slot{std::move(value), order.begin()}).first;
  }
  bytes += it->first.size() + (it->second.value ? it->second.value->size() : 0);
  while (bytes > capacity && !order.empty()) Erase(order.back());
}

void EtcdBackend::Cache::Erase(const std::string& key) {
  auto it = slots.find(key);
  if (it == slots.end()) return;
  bytes -= it->first.size() + (it->second.value ? it->second.value->size() : 0);
  order.erase(it->second.pos);
  slots.erase(it);
}

void EtcdBackend::SetFence(Fence fence, std::optional<Compare> compare,
                           std::function<void()> on_refused) {
  {
    std::lock_guard lock(fence_mu_);
    fence_ = FenceState{fence, std::move(compare), std::move(on_refused)};
  }
  // Whatever another server wrote while this one was not the writer is unknown here.
  cache_.Clear(/*enabled=*/fence == Fence::kHeld || (fence == Fence::kOpen && !ha_enabled_));
}

EtcdBackend::FenceState EtcdBackend::CurrentFence() const {
  std::lock_guard lock(fence_mu_);
  return fence_;
}

Task<Status> EtcdBackend::Commit(std::vector<TxnOp> ops) {
  if (CurrentFence().fence == Fence::kClosed) {
    co_return Status(StatusCode::kUnavailable,
                     "this server is not the active node: only the active node writes");
  }
  if (ops.size() > max_txn_ops_) {
    Status st = co_await CommitAlone(std::move(ops));
    co_return st;
  }
  Status st = co_await AwaitCallback<Status>([&](std::function<void(Status)> done) {
    Enqueue(std::move(ops), Waiter{EventLoop::Current(), std::move(done)});
  });
  co_return st;
}

void EtcdBackend::Enqueue(std::vector<TxnOp> ops, Waiter waiter) {
  size_t bytes = 0;
  for (const TxnOp& op : ops) bytes += op.key.size() + op.value.size();
  {
    std::lock_guard lock(group_mu_);
    Group* last = queued_.empty() ? nullptr : queued_.back().get();
    bool fits = last != nullptr && last->ops.size() + ops.size() <= max_txn_ops_ &&
                last->bytes + bytes <= max_group_bytes_;
    for (size_t i = 0; fits && i < ops.size(); ++i) fits = !last->keys.contains(ops[i].key);
    if (!fits) {
      queued_.push_back(std::make_unique<Group>());
      last = queued_.back().get();
    }
    for (TxnOp& op : ops) {
      last->keys.insert(op.key);
      last->ops.push_back(std::move(op));
    }
    last->bytes += bytes;
    last->waiters.push_back(std::move(waiter));
  }
  Pump(/*finished=*/false);
}

void EtcdBackend::Pump(bool finished) {
  std::unique_ptr<Group> next;
  {
    std::lock_guard lock(group_mu_);
    if (finished) --in_flight_;
    if (queued_.empty() || in_flight_ >= max_txns_in_flight_) return;
    next = std::move(queued_.front());
    queued_.pop_front();
    ++in_flight_;
  }
  StartTask(SendGroup(std::move(next)), [](bool) {});
}

Task<bool> EtcdBackend::SendGroup(std::unique_ptr<Group> group) {
  Status st = co_await CommitAlone(std::move(group->ops));
  // The next group goes out before the writers hear back: once the last of them has, the backend
  // may be gone (its owner waited for its writes, then destroyed it), so nothing below uses it.
  Pump(/*finished=*/true);
  for (Waiter& w : group->waiters) {
    if (w.loop != nullptr && !w.loop->stopped()) {
      w.loop->Post([done = std::move(w.done), st] { done(st); });
    } else {
      w.done(st);
    }
  }
  co_return true;
}

Task<Status> EtcdBackend::CommitAlone(std::vector<TxnOp> ops) {
  FenceState f = CurrentFence();
  if (f.fence == Fence::kClosed) {
    co_return Status(StatusCode::kUnavailable,
                     "this server is not the active node: only the active node writes");
  }
  for (size_t i = 0; i < ops.size(); i += max_txn_ops_) {
    TxnRequest txn;
    if (f.fence == Fence::kHeld && f.compare) txn.compare.push_back(*f.compare);
    const size_t end = std::min(ops.size(), i + max_txn_ops_);
    txn.success.assign(ops.begin() + i, ops.begin() + end);
    cache_.BeginWrite();
    auto r = co_await client_->Txn(std::move(txn));
    cache_.EndWrite(std::span<const TxnOp>(ops).subspan(i, end - i),
                    r.ok() && (f.fence != Fence::kHeld || r->succeeded));
    if (!r.ok()) co_return r.status();
    if (f.fence == Fence::kHeld && !r->succeeded) {
      // Another server holds the lock now: this one must stop acting as the active node.
      if (f.on_refused) f.on_refused();
      co_return Status(StatusCode::kUnavailable,
                       "this server lost the HA lock to another node: the write was not applied");
    }
  }
  co_return Status();
}

Task<Result<std::optional<std::string>>> EtcdBackend::Get(std::string_view key) {
  RangeRequest r;
  r.key = prefix_ + std::string(key);
  uint64_t epoch = 0;
  if (auto cached = cache_.Lookup(r.key, &epoch)) co_return std::move(*cached);
  std::string full = r.key;
  CO_ASSIGN_OR_RETURN(RangeResult got, co_await client_->Range(std::move(r)));
  std::optional<std::string> value;
  if (!got.kvs.empty()) value = std::move(got.kvs.front().value);
  cache_.Insert(full, value, epoch);
  co_return value;
}

Task<Status> EtcdBackend::Put(std::string_view key, std::string_view value) {
  std::vector<TxnOp> ops(1);
  ops[0].kind = TxnOp::Kind::kPut;
  ops[0].key = prefix_ + std::string(key);
  ops[0].value = std::string(value);
  Status st = co_await Commit(std::move(ops));
  co_return st;
}

Task<Status> EtcdBackend::Delete(std::string_view key) {
  std::vector<TxnOp> ops(1);
  ops[0].kind = TxnOp::Kind::kDelete;
  ops[0].key = prefix_ + std::string(key);
  Status st = co_await Commit(std::move(ops));
  co_return st;
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
  if (ops.empty()) co_return Status();
  Status st = co_await Commit(std::move(ops));
  co_return st;
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

namespace {

// Hands a page's keys (without the backend's prefix) to `fn`; *stopped when fn said stop. A Task
// of the same type as a Range so that WhenAll runs it beside the read of the next page.
Task<Result<RangeResult>> DeliverKeys(const RangeResult* page, size_t prefix_len,
                                      const storage::Backend::KeyFn* fn, bool* stopped) {
  for (const auto& kv : page->kvs) {
    if (!(*fn)(std::string_view(kv.key).substr(prefix_len))) {
      *stopped = true;
      break;
    }
  }
  co_return RangeResult{};
}

}  // namespace

Task<Status> EtcdBackend::ScanKeys(std::string_view prefix, KeyFn fn) {
  const std::string base = prefix_ + std::string(prefix);
  RangeRequest r;
  r.key = base;
  r.range_end = PrefixEnd(base);
  r.keys_only = true;
  r.limit = keys_page_size_;
  CO_ASSIGN_OR_RETURN(RangeResult page, co_await client_->Range(r));
  r.revision = page.revision;  // every page at the first one's revision
  for (;;) {
    const bool more = page.more && !page.kvs.empty();
    std::vector<Task<Result<RangeResult>>> both;
    if (more) {
      r.key = page.kvs.back().key + std::string(1, '\0');
      both.push_back(client_->Range(r));
    }
    bool stopped = false;
    both.push_back(DeliverKeys(&page, prefix_.size(), &fn, &stopped));
    std::vector<Result<RangeResult>> done = co_await WhenAll(std::move(both));
    if (stopped || !more) break;
    if (!done[0].ok()) co_return done[0].status();
    page = std::move(*done[0]);
  }
  co_return Status();
}

}  // namespace vault::etcd
