// Training checkpoints: run/ckpt-STEP.h5 + run/latest.
//
// A checkpoint holds named tensors (trainables, optimizer moments) and a JSON
// state (epoch, step, data position, lr schedule, early-stop counters, RNG
// states). save() writes ckpt-STEP.h5 under a temp name, fsyncs, renames,
// then rewrites `latest` the same way and prunes all but the newest
// keep_last: a crash at any point leaves the previous checkpoint intact and
// `latest` pointing at a complete file.
//
//   checkpoint::CheckpointStore store("runs/demo", /*keep_last=*/3);
//   store.save(step, state, cfg.resolved_yaml);
//   if (auto path = store.latest_path()) state = store.load(*path);
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmsrec::checkpoint {

struct TrainingState {
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // names may contain '/' (HDF5 groups)
  nlohmann::json meta = nlohmann::json::object();

  const at::Tensor& tensor(const std::string& name) const;  // throws IoError naming the tensor
};

class CheckpointStore {
 public:
  CheckpointStore(std::string dir, int keep_last);

  // Returns the path written. Rank 0 only (not a collective).
  std::string save(int64_t step, const TrainingState& state, const std::string& config_yaml) const;
  // The checkpoint `latest` names, if any (and it exists).
  std::optional<std::string> latest_path() const;
  // Reads a checkpoint; checks the schema. Tensors come back on the CPU.
  static TrainingState load(const std::string& path);
  // ckpt-*.h5 in this directory, oldest first.
  std::vector<std::string> list() const;
  // The newest checkpoint older than `path` that loads (schema and checksums),
  // if any; `skipped` gets "file: why" for each unreadable one passed over.
  std::optional<std::pair<std::string, TrainingState>> newest_readable_before(
      const std::string& path, std::vector<std::string>* skipped = nullptr) const;

 private:
  void write_checkpoint(const std::string& path, int64_t step, const TrainingState& state,
                        const std::string& config_yaml) const;
  std::string dir_;
  int keep_last_;
};

}  // namespace llmsrec::checkpoint
