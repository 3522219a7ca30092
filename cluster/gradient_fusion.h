// Data-parallel gradient exchange: every trainable gradient is copied into one
// flat fusion buffer, reduced with ONE collective per step, and copied back
// (Horovod's tensor fusion, without the background thread: the trainable
// part of LLM-SRec is a few MLPs, so one buffer always fits).
//
//   cluster::GradientFusion fusion(trainable_params);
//   loss.backward();
//   fusion.allreduce(comm, cluster::ReduceOp::kSum);   // Collective
//   optimizer.step();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/communicator.h"

namespace llmsrec::cluster {

class GradientFusion {
 public:
  // `params`: the trainable tensors (same dtype and device), in a fixed order.
  explicit GradientFusion(const std::vector<at::Tensor>& params);
  ~GradientFusion();
  GradientFusion(GradientFusion&&) noexcept;
  GradientFusion& operator=(GradientFusion&&) noexcept;

  // Collective: every rank, same order. Reduces every parameter's .grad in
  // place; a parameter without a gradient this step counts as zeros.
  void allreduce(Communicator& comm, ReduceOp op);
  int64_t numel() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bitwise hash (FNV-1a over the raw bytes) of the parameters' values.
uint64_t parameter_hash(const std::vector<at::Tensor>& params);

// Collective: every rank, same order. All ranks gather `hash`; if any differ,
// throws CommError naming `what` and the ranks that disagree with rank 0.
void require_identical_across_ranks(Communicator& comm, uint64_t hash, const std::string& what);

}  // namespace llmsrec::cluster
