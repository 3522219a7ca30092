#include "trainer/teacher_sampler.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "core/rng.h"
#include "sharding/epoch_plan.h"

namespace llmsrec::trainer {

std::vector<int64_t> trainable_users(const data::Dataset& ds) {
  std::vector<int64_t> users;
  for (int64_t u = 0; u < ds.num_users(); ++u) {
    if (ds.train_items(u).size() >= 2) users.push_back(u);
  }
  return users;
}

int64_t batches_per_epoch(const data::Dataset& ds, int64_t batch) {
  return std::max<int64_t>(1, (ds.num_users() + batch - 1) / batch);
}

TeacherSampler::TeacherSampler(const data::Dataset& ds, const SamplerOptions& opt, int64_t first_epoch,
                               int64_t last_epoch)
    : ds_(ds), opt_(opt), users_(trainable_users(ds)), first_epoch_(first_epoch) {
  if (users_.empty()) throw DataError("teacher training: no user has 2 or more training interactions");
  if (ds.num_items() < 2) throw DataError("teacher training: need at least 2 items to sample negatives");
  per_epoch_ = trainer::batches_per_epoch(ds, opt.batch);
  total_ = std::max<int64_t>(0, last_epoch - first_epoch + 1) * per_epoch_;
  sorted_offsets_.push_back(0);
  for (int64_t u = 0; u < ds.num_users(); ++u) {
    auto tr = ds.train_items(u);
    const auto at = static_cast<std::ptrdiff_t>(sorted_items_.size());
    sorted_items_.insert(sorted_items_.end(), tr.begin(), tr.end());
    std::sort(sorted_items_.begin() + at, sorted_items_.end());
    sorted_items_.erase(std::unique(sorted_items_.begin() + at, sorted_items_.end()), sorted_items_.end());
    sorted_offsets_.push_back(static_cast<int64_t>(sorted_items_.size()));
    if (tr.size() >= 2 && sorted_offsets_[u + 1] - sorted_offsets_[u] >= ds.num_items()) {
      throw DataError(fmt::format("teacher training: user {} interacted with every item; no negative exists", u));
    }
  }
  for (int64_t i = 0; i < std::max<int64_t>(1, opt_.workers); ++i) threads_.emplace_back([this] { work(); });
}

TeacherSampler::~TeacherSampler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::unique_ptr<TeacherBatch> TeacherSampler::make(int64_t epoch, int64_t index) const {
  const int64_t B = opt_.batch, L = opt_.shape.maxlen;
  auto b = std::make_unique<TeacherBatch>();
  b->epoch = epoch;
  b->index = index;
  b->batch = B;
  b->len = L;
  b->users.resize(B);
  b->seq.assign(B * L, 0);
  core::Rng rng(core::stream_seed(opt_.seed, core::Stream::kTeacherSampling, static_cast<uint64_t>(epoch),
                                  static_cast<uint64_t>(index)));
  const uint64_t num_items = static_cast<uint64_t>(ds_.num_items());
  std::vector<int64_t> order;
  if (opt_.permutation) {
    // Recomputed per batch (U log U, far below the step's cost) so workers need no shared state.
    order = sharding::shuffled(users_, core::stream_seed(opt_.seed, core::Stream::kShuffle, 0x7ea), epoch);
  }
  const int64_t n_users = static_cast<int64_t>(users_.size());
  for (int64_t r = 0; r < B; ++r) {
    const int64_t u = opt_.permutation ? order[static_cast<size_t>((index * B + r) % n_users)]
                                       : users_[rng.uniform(users_.size())];
    b->users[r] = u;
    auto tr = ds_.train_items(u);
    const int32_t* seen_begin = sorted_items_.data() + sorted_offsets_[u];
    const int32_t* seen_end = sorted_items_.data() + sorted_offsets_[u + 1];
    // Inputs train[0..n-2], targets train[1..n-1]; keep the last L of them.
    const int64_t n_in = std::min<int64_t>(tr.size() - 1, L);
    const int64_t first = tr.size() - 1 - n_in;
    for (int64_t k = 0; k < n_in; ++k) {
      const int64_t slot = L - n_in + k;
      b->seq[r * L + slot] = tr[first + k];
      b->rows.push_back(r * L + slot);
      b->pos.push_back(tr[first + k + 1]);
      int32_t neg;
      do {
        neg = static_cast<int32_t>(1 + rng.uniform(num_items));
      } while (std::binary_search(seen_begin, seen_end, neg));
      b->neg.push_back(neg);
    }
  }
  const int64_t n_masks = models::sasrec::dropout_mask_floats(opt_.shape, B, L);
  if (n_masks > 0) {
    b->dropout.resize(n_masks);
    core::Rng drop(core::stream_seed(opt_.seed, core::Stream::kDropout, static_cast<uint64_t>(epoch),
                                     static_cast<uint64_t>(index)));
    models::sasrec::fill_dropout_masks(b->dropout.data(), n_masks, opt_.shape.dropout, drop);
  }
  return b;
}

void TeacherSampler::work() {
  while (true) {
    int64_t s;
    {
      std::unique_lock<std::mutex> lock(mu_);
      space_cv_.wait(lock, [&] { return stop_ || claimed_ >= total_ || claimed_ < consumed_ + opt_.queue; });
      if (stop_ || claimed_ >= total_) return;
      s = claimed_++;
    }
    std::unique_ptr<TeacherBatch> b;
    try {
      b = make(first_epoch_ + s / per_epoch_, s % per_epoch_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
      stop_ = true;
      ready_cv_.notify_all();
      space_cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_[s] = std::move(b);
    }
    ready_cv_.notify_all();
  }
}

std::unique_ptr<TeacherBatch> TeacherSampler::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (consumed_ >= total_) return nullptr;
  ready_cv_.wait(lock, [&] { return error_ || done_.count(consumed_) > 0; });
  if (error_) std::rethrow_exception(error_);
  auto it = done_.find(consumed_);
  auto b = std::move(it->second);
  done_.erase(it);
  ++consumed_;
  lock.unlock();
  space_cv_.notify_all();
  return b;
}

}  // namespace llmsrec::trainer
