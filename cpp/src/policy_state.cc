// Copyright 2026 The bouncekit authors.
//
// Policy engine state files: a versioned, checksummed binary format, written
// atomically (temporary file, fsync, rename, fsync of the folder).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bouncekit/error_location.h"
#include "bouncekit/policy.h"
#include "policy_internal.h"

namespace bouncekit {
namespace {

constexpr char kMagic[8] = {'B', 'K', 'P', 'S', 'T', 'A', 'T', 'E'};
constexpr size_t kHeader = 8 + 4 + 8 + 8;

uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

class Writer {
 public:
  template <typename T>
  void Put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
  }
  void Str(absl::string_view s) {
    Put<uint64_t>(s.size());
    out.append(s.data(), s.size());
  }
  void Events(const std::vector<internal::CountedEvent>& v) {
    Put<uint64_t>(v.size());
    for (const auto& e : v) {
      Put(e.row);
      Put(e.ts);
      Put(e.campaign_id);
      Put(e.seq);
      Put(e.klass);
      Put(e.flags);
    }
  }
  std::string out;
};

class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t n;
    if (!Get(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // A count of items of at least `item_bytes` bytes each (bounded by what is left).
  bool Count(uint64_t* n, size_t item_bytes) {
    return Get(n) && *n <= (in_.size() - pos_) / item_bytes;
  }
  bool Events(std::vector<internal::CountedEvent>* v) {
    uint64_t n;
    if (!Count(&n, 34)) return false;
    v->resize(n);
    for (auto& e : *v) {
      if (!Get(&e.row) || !Get(&e.ts) || !Get(&e.campaign_id) || !Get(&e.seq) || !Get(&e.klass) || !Get(&e.flags)) {
        return false;
      }
      if (e.klass >= kNumPolicyClasses) return false;
    }
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  absl::string_view in_;
  size_t pos_ = 0;
};

absl::Status Damaged(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("policy state is damaged or truncated (", what, ")"));
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return WithSource(absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno))), path);
}

}  // namespace

absl::StatusOr<std::string> PolicyEngine::SerializeState() const {
  const Impl& m = *impl_;
  if (!m.pending.empty()) {
    return absl::FailedPreconditionError("events were added but not run: call Run() before saving the state");
  }
  Writer w;
  w.Str(m.policy.Fingerprint());
  const InputSummary& s = m.summary;
  w.Put(s.rows);
  w.Put(s.used);
  for (int64_t v : s.skipped) w.Put(v);
  w.Put(s.late);
  for (int64_t v : s.by_class) w.Put(v);
  w.Put(s.greylist_pending);
  w.Put<uint64_t>(m.names.size());
  for (size_t i = 0; i < m.names.size(); ++i) {
    const internal::RecipientState& r = m.states[i];
    w.Str(m.names[i]);
    w.Put(r.events);
    for (int64_t v : r.by_class) w.Put(v);
    w.Put(r.mailbox_full);
    w.Put(r.first_ts);
    w.Put(r.last_ts);
    w.Put(r.last_delivered);
    w.Put(r.last_counted_soft);
    w.Put(r.soft_seq);
    w.Put(r.hard_seq);
    w.Put(r.complaint_seq);
    w.Put(r.streak_from_seq);
    w.Put(r.engaged);
    w.Events(r.softs);
    w.Events(r.hards);
    w.Events(r.complaints);
    w.Events(r.pending);
    w.Put<uint64_t>(r.rule_since.size());
    for (uint64_t v : r.rule_since) w.Put(v);
    w.Put(r.action);
    w.Put(r.rule);
    w.Put(r.decided_at);
    w.Put(r.until);
    w.Put(r.event_number);
    w.Put(r.decisions);
    w.Put<uint64_t>(r.evidence.size());
    for (const EvidenceEvent& e : r.evidence) {
      w.Put(e.row);
      w.Put(e.ts);
      w.Put(e.campaign_id);
      w.Put(e.klass);
    }
  }
  std::string out(kMagic, 8);
  Writer h;
  h.Put<uint32_t>(kStateVersion);
  h.Put<uint64_t>(w.out.size());
  h.Put<uint64_t>(Fnv1a(w.out));
  out += h.out;
  out += w.out;
  return out;
}

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::FromState(const Policy& policy, absl::string_view bytes) {
  absl::StatusOr<std::unique_ptr<PolicyEngine>> created = Create(policy);
  if (!created.ok()) return created.status();
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return absl::InvalidArgumentError("not a bouncekit policy state file (bad magic bytes)");
  }
  Reader hr(bytes.substr(8, kHeader - 8));
  uint32_t version = 0;
  uint64_t length = 0, checksum = 0;
  hr.Get(&version);
  hr.Get(&length);
  hr.Get(&checksum);
  if (version != kStateVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy state file has format version ", version, "; this bouncekit reads version ",
                     kStateVersion, " only (re-run the history from the start, or use the bouncekit that wrote it)"));
  }
  const absl::string_view payload = bytes.substr(kHeader);
  if (payload.size() != length) return Damaged(absl::StrCat("payload is ", payload.size(), " bytes, header says ", length));
  if (Fnv1a(payload) != checksum) return Damaged("checksum mismatch");
  Impl& m = *(*created)->impl_;
  Reader r(payload);
  std::string fingerprint;
  if (!r.Str(&fingerprint)) return Damaged("policy fingerprint");
  if (fingerprint != policy.Fingerprint()) {
    return WithField(absl::FailedPreconditionError(
                         absl::StrCat("the state was saved with a different policy than '", policy.name,
                                      "' (its rules differ); resume with the same policy")),
                     "policy");
  }
  InputSummary& s = m.summary;
  bool ok = r.Get(&s.rows) && r.Get(&s.used);
  for (int k = 0; k < kNumSkipReasons; ++k) {
    int64_t v = 0;
    ok = ok && r.Get(&v);
    s.skipped[k] = v;
  }
  ok = ok && r.Get(&s.late);
  for (int k = 0; k < kNumPolicyClasses; ++k) {
    int64_t v = 0;
    ok = ok && r.Get(&v);
    s.by_class[k] = v;
  }
  ok = ok && r.Get(&s.greylist_pending);
  uint64_t n = 0;
  if (!ok || !r.Count(&n, 8)) return Damaged("summary");
  m.names.reserve(n);
  m.states.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    if (!r.Str(&name)) return Damaged("recipient");
    if (name.empty() || m.index.contains(name)) return Damaged("recipient");
    m.index.emplace(name, static_cast<uint32_t>(m.names.size()));
    m.names.push_back(std::move(name));
    internal::RecipientState& st = m.states.emplace_back();
    ok = r.Get(&st.events);
    for (int64_t& v : st.by_class) ok = ok && r.Get(&v);
    ok = ok && r.Get(&st.mailbox_full) && r.Get(&st.first_ts) && r.Get(&st.last_ts) && r.Get(&st.last_delivered) &&
         r.Get(&st.last_counted_soft) && r.Get(&st.soft_seq) && r.Get(&st.hard_seq) && r.Get(&st.complaint_seq) &&
         r.Get(&st.streak_from_seq) && r.Get(&st.engaged) && r.Events(&st.softs) && r.Events(&st.hards) &&
         r.Events(&st.complaints) && r.Events(&st.pending);
    uint64_t k = 0;
    ok = ok && r.Count(&k, 8);
    if (!ok || k > policy.rules.size()) return Damaged("recipient state");
    st.rule_since.resize(k);
    for (uint64_t& v : st.rule_since) ok = ok && r.Get(&v);
    ok = ok && r.Get(&st.action) && r.Get(&st.rule) && r.Get(&st.decided_at) && r.Get(&st.until) &&
         r.Get(&st.event_number) && r.Get(&st.decisions) && r.Count(&k, 25);
    if (!ok) return Damaged("decision");
    if (st.action > static_cast<uint8_t>(PolicyAction::kSuppress) ||
        (st.action != 0 && (st.rule < 0 || st.rule >= static_cast<int32_t>(policy.rules.size())))) {
      return Damaged("decision");
    }
    st.evidence.resize(k);
    for (EvidenceEvent& e : st.evidence) {
      ok = ok && r.Get(&e.row) && r.Get(&e.ts) && r.Get(&e.campaign_id) && r.Get(&e.klass);
    }
    if (!ok) return Damaged("evidence");
  }
  if (!r.done()) return Damaged("trailing bytes");
  return created;
}

absl::Status PolicyEngine::SaveState(const std::string& path) const {
  absl::StatusOr<std::string> bytes = SerializeState();
  if (!bytes.ok()) return bytes.status();
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  const char* p = bytes->data();
  size_t left = bytes->size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      absl::Status st = Errno("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    absl::Status st = Errno("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status st = Errno("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return st;
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::LoadState(const Policy& policy, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return WithSource(absl::NotFoundError(absl::StrCat("no state file ", path)), path);
    return Errno("cannot open", path);
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status st = Errno("cannot read", path);
      ::close(fd);
      return st;
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  absl::StatusOr<std::unique_ptr<PolicyEngine>> e = FromState(policy, bytes);
  if (!e.ok()) {
    absl::Status st = e.status();
    return WithSource(absl::Status(st.code(), absl::StrCat(path, ": ", st.message())), path);
  }
  return e;
}

}  // namespace bouncekit
