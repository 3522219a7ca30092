// Training batches for the SASRec teacher, prepared by worker threads ahead
// of the step (bounded queue), delivered in order.
//
// Batch s of the run is (epoch, index) = (first_epoch + s / batches_per_epoch,
// s % batches_per_epoch); everything random in it comes from streams keyed by
// (seed, epoch, index), so a batch is the same whichever worker made it, and
// a resumed run sees the same batches as an uninterrupted one:
//  - users: uniform with replacement among users with >= 2 train items, or (option
//    `permutation`) batch i of an epoch takes slots [i*B, (i+1)*B) of a seeded
//    permutation of them (wrapping around);
//  - input: train[:-1] right-aligned in maxlen slots (most recent last), target
//    at each slot = the next train item;
//  - one negative per target slot, uniform among items not in the user's train set;
//  - dropout masks for the whole model (models/sasrec/sasrec_shape.h layout).
//
//   TeacherSampler s(ds, opts, /*first_epoch=*/1, /*last_epoch=*/200);
//   while (auto b = s.next()) train_step(*b);   // nullptr after the last batch
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "models/sasrec/sasrec_shape.h"

namespace llmsrec::trainer {

struct TeacherBatch {
  int64_t epoch = 0, index = 0;
  int64_t batch = 0, len = 0;
  std::vector<int64_t> users;             // [B]
  std::vector<int64_t> seq;               // [B * len], 0 = padding
  std::vector<int64_t> rows, pos, neg;    // [N]: flat slot, its next item, its negative
  std::vector<float> dropout;             // dropout_mask_floats(shape, B, len) values
};

struct SamplerOptions {
  models::sasrec::SasrecShape shape;  // maxlen, dropout and the mask layout
  int64_t batch = 128;
  uint64_t seed = 0;
  int64_t workers = 1;
  int64_t queue = 8;                  // batches prepared ahead
  // false: users uniform with replacement (the original SASRec and the older PyTorch
  // port); true: each epoch walks a seeded permutation of the users (pmixer today).
  bool permutation = false;
};

// Users with at least 2 train items (the ones a training sequence exists for).
std::vector<int64_t> trainable_users(const data::Dataset& ds);
// ceil(num_users / batch), at least 1.
int64_t batches_per_epoch(const data::Dataset& ds, int64_t batch);

class TeacherSampler {
 public:
  TeacherSampler(const data::Dataset& ds, const SamplerOptions& opt, int64_t first_epoch, int64_t last_epoch);
  ~TeacherSampler();  // stops and joins the workers
  TeacherSampler(const TeacherSampler&) = delete;
  TeacherSampler& operator=(const TeacherSampler&) = delete;

  // The next batch in order, waiting if it is not ready; nullptr when done.
  // Rethrows a worker's exception.
  std::unique_ptr<TeacherBatch> next();
  int64_t batches_per_epoch() const { return per_epoch_; }

  // Builds batch (epoch, index) in the calling thread (workers use it; tests too).
  std::unique_ptr<TeacherBatch> make(int64_t epoch, int64_t index) const;

 private:
  void work();

  const data::Dataset& ds_;
  SamplerOptions opt_;
  std::vector<int64_t> users_;
  std::vector<int64_t> sorted_offsets_;   // CSR of each user's sorted train items
  std::vector<int32_t> sorted_items_;
  int64_t per_epoch_ = 0, first_epoch_ = 0, total_ = 0;

  std::mutex mu_;
  std::condition_variable ready_cv_, space_cv_;
  std::map<int64_t, std::unique_ptr<TeacherBatch>> done_;
  int64_t claimed_ = 0, consumed_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

}  // namespace llmsrec::trainer
