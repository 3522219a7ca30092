// `llmsrec embed`: the LLM's hidden states of every item and every user of a
// trained LLM-SRec, and their projections, into hidden.h5 (docs/hidden_h5.md):
//   items/hidden [I+1, d_llm]  h_i at [ItemOut] (row = item id, row 0 = zeros)
//   items/vector [I+1, out]    f_item(h_i)
//   users/hidden [U, d_llm]    h_u at [UserOut] on the test input (history = train + valid)
//   users/vector [U, out]      f_user(h_u)
//
// Rows are dealt to ranks in whole batches of `batch` rows (contiguous runs of
// batches per rank), so every LLM forward packs the same prompts whatever the
// world size: the arrays do not depend on the number of ranks (bitwise, at
// equal thread counts). Each rank streams its rows into its own part file
// through a background writer thread; rank 0 then joins the parts into
// OUTPUT.tmp and renames it to OUTPUT: OUTPUT appears only when complete.
//
//   trainer::EmbedOptions opt;
//   opt.output = cfg.output_path(cfg.embed.output);
//   nlohmann::json summary = trainer::embed_hidden(setup, ctx->world(), opt);  // Collective
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace llmsrec::cluster {
class Communicator;
}
namespace llmsrec::core {
class ProgressReporter;
}

namespace llmsrec::trainer {

struct LlmSrecSetup;

inline constexpr const char* kHiddenSchema = "llmsrec.hidden";
inline constexpr int64_t kHiddenSchemaVersion = 1;

struct EmbedOptions {
  std::string output;          // final path (hidden.h5); parts are OUTPUT.part-R-of-N
  int64_t batch = 32;          // prompts per LLM forward = rows per dealt block
  uint64_t chunk_rows = 0;     // HDF5 chunk rows; 0 = about 1 MiB chunks
  int64_t queue_blocks = 16;   // writer queue bound (blocks of `batch` rows)
  // Provenance, stored as attributes of the output.
  std::string checkpoint;      // the checkpoint whose weights were used
  std::string weights;         // "best" or "last"
  std::string dataset;         // dataset.h5 (titles for `inspect neighbors`)
  std::string config_yaml;     // resolved config
  core::ProgressReporter* progress = nullptr;  // rank 0's global rows, rate and ETA
};

// [begin, end) of `n` rows that `rank` of `world` embeds: whole batches of
// `batch` rows, a contiguous run of ceil(batches / world) batches per rank.
std::pair<int64_t, int64_t> embed_rows_of(int64_t n, int64_t batch, int rank, int world);

// Which weights load_trained(best = `best`) takes from `checkpoint`: "best"
// (the best-by-validation copy) or "last" (asked for, or no best copy yet).
std::string weights_used(const std::string& checkpoint, bool best);

// Collective (a host allreduce every few batches, so ranks stop together
// when one fails and a rank never waits longer than a few batches). Returns the summary:
// {output, items, users, rows, seconds, rows_per_s, bytes, world_size, ...}.
// Throws the failing rank's error on that rank and IoError naming it elsewhere;
// on failure no OUTPUT is written and an existing one is left untouched.
nlohmann::json embed_hidden(const LlmSrecSetup& s, cluster::Communicator& comm, const EmbedOptions& options);

}  // namespace llmsrec::trainer
