// Config section `embed`: `llmsrec embed` (hidden states of every item and
// user -> hidden.h5, see docs/hidden_h5.md).
//
//   embed:
//     output: hidden.h5
//     batch: 32
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"

namespace llmsrec::trainer {

struct EmbedConfig : core::ConfigSection {
  std::string output = "hidden.h5";  // under run.dir
  // Prompts per LLM forward; also the unit rows are dealt to ranks in. Small on
  // purpose: the padded attention of a batch costs B x S_max^2 memory traffic, and on
  // CPU (demo model, 1845 rows) batch 1 / 4 / 32 ran at 99 / 77 / 9.7 rows/s.
  int64_t batch = 4;
  int64_t chunk_rows = 0;            // rows per HDF5 chunk; 0 = about 1 MiB chunks
  int64_t queue_blocks = 16;         // row blocks the background writer may hold before the LLM waits

  void visit(core::ConfigVisitor& v) override {
    v.field("output", output, "hidden.h5 written by llmsrec embed (relative to run.dir)");
    v.field("batch", batch, "prompts per LLM forward; rows are dealt to ranks in whole batches");
    v.field("chunk_rows", chunk_rows, "rows per HDF5 chunk; 0 = about 1 MiB per chunk");
    v.field("queue_blocks", queue_blocks, "row blocks the background writer holds before the LLM waits on disk");
  }
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::trainer
