#include "trainer/llmsrec_embed.h"

#include <ATen/ATen.h>

#include <array>
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint/h5.h"
#include "checkpoint/row_parts.h"
#include "checkpoint/row_stream_writer.h"
#include "cluster/communicator.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/version.h"
#include "models/prompt/prompt_builder.h"
#include "trainer/llmsrec_eval.h"
#include "trainer/llmsrec_model.h"
#include "trainer/llmsrec_setup.h"

namespace llmsrec::trainer {
namespace {

namespace fs = std::filesystem;
namespace h5 = checkpoint::h5;
using models::prompt::BuiltPrompt;
using Clock = std::chrono::steady_clock;

// Batches between the ranks' agreements (failure flag, progress).
constexpr size_t kSyncEvery = 8;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The four datasets, in the writer's index order.
enum Slot : size_t { kItemHidden, kItemVector, kUserHidden, kUserVector, kSlots };
constexpr const char* kNames[kSlots] = {"items/hidden", "items/vector", "users/hidden", "users/vector"};
constexpr const char* kMeaning[kSlots] = {
    "final-norm LLM hidden state h_i at [ItemOut] of the item prompt; row = item id, row 0 = padding (zeros)",
    "f_item(h_i): the item's vector in the score space; score(u, i) = users/vector[u] . items/vector[i]",
    "final-norm LLM hidden state h_u at [UserOut] of the user prompt on the test input (history = train + valid)",
    "f_user(h_u): the user's vector in the score space"};

std::string part_path(const std::string& output, int rank, int world) {
  return fmt::format("{}.part-{}-of-{}", output, rank, world);
}

std::vector<float> to_rows(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// One LLM forward: a batch of items or users.
struct Task {
  bool user;
  int64_t begin, end;  // item index (item id - 1) or user id
};

// Collective: agrees on a failure flag; returns the ranks that set it.
std::vector<int> failed_ranks(cluster::Communicator& comm, bool failed) {
  std::vector<int64_t> flags(static_cast<size_t>(comm.size()), 0);
  flags[static_cast<size_t>(comm.rank())] = failed ? 1 : 0;
  comm.allreduce(flags.data(), static_cast<int64_t>(flags.size()), cluster::ReduceOp::kSum);
  std::vector<int> out;
  for (size_t r = 0; r < flags.size(); ++r) if (flags[r]) out.push_back(static_cast<int>(r));
  return out;
}

// Rethrows this rank's own error, or reports the others'.
[[noreturn]] void fail_together(const std::exception_ptr& mine, const std::vector<int>& ranks, const char* stage) {
  if (mine) std::rethrow_exception(mine);
  throw IoError(fmt::format("embed: {} failed on rank(s) {} (see their log); no output written", stage,
                            fmt::join(ranks, ", ")));
}

// Rank 0: joins the parts into `opt.output` (temp name, fsync, rename).
void assemble(const EmbedOptions& opt, int world, const std::array<uint64_t, kSlots>& rows,
              const std::array<uint64_t, kSlots>& cols, const std::array<uint64_t, kSlots>& first_row) {
  std::vector<h5::File> parts;
  for (int r = 0; r < world; ++r) {
    parts.push_back(h5::File::open(part_path(opt.output, r, world)));
    if (parts.back().attr_int("world_size") != world) {
      throw IoError(fmt::format("'{}' was written by a run on another number of ranks", parts.back().file()));
    }
  }
  h5::AtomicFile out(opt.output);
  h5::Group& root = out.root();
  root.set_attr("llmsrec_schema", kHiddenSchema);
  root.set_attr("schema_version", kHiddenSchemaVersion);
  root.set_attr("config", opt.config_yaml);
  root.set_attr("created_by", core::version_string());
  nlohmann::json versions;
  for (const auto& [k, v] : core::version_table()) versions[k] = v;
  root.set_attr("versions", versions.dump());
  root.set_attr("checkpoint", opt.checkpoint);
  root.set_attr("weights", opt.weights);
  root.set_attr("dataset", opt.dataset);
  root.set_attr("world_size", static_cast<int64_t>(world));
  root.set_attr("batch", opt.batch);
  root.set_attr("num_items", static_cast<int64_t>(rows[kItemHidden] - 1));
  root.set_attr("num_users", static_cast<int64_t>(rows[kUserHidden]));
  root.set_attr("user_input", "test: history = train + valid items");
  root.create_group("items");
  root.create_group("users");
  for (size_t i = 0; i < kSlots; ++i) {
    h5::WriteOptions wo;
    wo.chunk_rows = std::max<uint64_t>(1, opt.chunk_rows > 0 ? opt.chunk_rows : checkpoint::auto_chunk_rows(cols[i]));
    root.create_dataset<float>(kNames[i], {rows[i], cols[i]}, wo);
    root.open_object(kNames[i]).set_attr("meaning", kMeaning[i]);
    if (first_row[i] > 0) {  // items: row 0 is the padding id
      std::vector<float> zeros(first_row[i] * cols[i], 0.0f);
      root.write_rows<float>(kNames[i], 0, zeros.data(), first_row[i]);
    }
    checkpoint::copy_row_parts(root, kNames[i], parts, first_row[i], rows[i], wo.chunk_rows);
  }
  parts.clear();
  out.commit();
}

}  // namespace

std::string weights_used(const std::string& checkpoint, bool best) {
  return best && h5::File::open(checkpoint).exists("tensors/best") ? "best" : "last";
}

std::pair<int64_t, int64_t> embed_rows_of(int64_t n, int64_t batch, int rank, int world) {
  const int64_t batches = (n + batch - 1) / batch;
  const int64_t per = (batches + world - 1) / world;
  const int64_t begin = std::min(n, per * rank * batch);
  return {begin, std::min(n, begin + per * batch)};
}

nlohmann::json embed_hidden(const LlmSrecSetup& s, cluster::Communicator& comm, const EmbedOptions& opt) {
  LLMSREC_ASSERT(opt.batch >= 1, "embed batch must be >= 1");
  at::NoGradGuard no_grad;
  const auto start = Clock::now();
  const int rank = comm.rank(), world = comm.size();
  const int64_t I = s.dataset.num_items(), U = s.dataset.num_users();
  const auto D = static_cast<uint64_t>(s.llm_hidden_size());
  const auto K = static_cast<uint64_t>(s.model->f_item().named_parameters()[4].second.size(0));
  const std::array<uint64_t, kSlots> cols = {D, K, D, K};

  // This rank's batches; rank 0 has the most (contiguous runs of ceil(batches / world)).
  auto tasks_of = [&](int r) {
    std::vector<Task> tasks;
    for (bool user : {false, true}) {
      auto [b, e] = embed_rows_of(user ? U : I, opt.batch, r, world);
      for (int64_t j = b; j < e; j += opt.batch) tasks.push_back({user, j, std::min(e, j + opt.batch)});
    }
    return tasks;
  };
  const std::vector<Task> mine = tasks_of(rank);
  const size_t rounds = tasks_of(0).size();
  // Plain variables, not structured bindings: the writer's init lambda captures them.
  const std::pair<int64_t, int64_t> item_rows = embed_rows_of(I, opt.batch, rank, world);
  const std::pair<int64_t, int64_t> user_rows = embed_rows_of(U, opt.batch, rank, world);
  const int64_t ib = item_rows.first, ie = item_rows.second, ub = user_rows.first, ue = user_rows.second;
  if (rank == 0) {
    LOG_INFO("embed: {} items + {} users on {} rank(s), {} prompts per forward -> {}", I, U, world, opt.batch,
             opt.output);
  }

  // Compute and stream this rank's rows; a host allreduce every kSyncEvery
  // rounds carries the failure flag and the global row count (rank 0's
  // progress). Not every round: ranks may drift a few batches apart, so noise
  // in one forward's time (shared cores) does not stall the other ranks.
  const std::string part = part_path(opt.output, rank, world);
  std::exception_ptr error;
  checkpoint::RowWriterStats wstats;
  std::vector<int> bad;
  {
    std::unique_ptr<checkpoint::RowStreamWriter> writer;
    try {
      checkpoint::RowWriterOptions wo;
      wo.queue_blocks = opt.queue_blocks;
      wo.chunk_rows = opt.chunk_rows;
      const std::vector<checkpoint::StreamedDataset> datasets = {
          {kNames[kItemHidden], static_cast<uint64_t>(ie - ib), D}, {kNames[kItemVector], static_cast<uint64_t>(ie - ib), K},
          {kNames[kUserHidden], static_cast<uint64_t>(ue - ub), D}, {kNames[kUserVector], static_cast<uint64_t>(ue - ub), K}};
      writer = std::make_unique<checkpoint::RowStreamWriter>(part, datasets, wo, [=](h5::Group& root) {
        root.set_attr("llmsrec_schema", "llmsrec.hidden.part");
        root.set_attr("note", "one rank's rows of an unfinished llmsrec embed; not a hidden.h5");
        root.set_attr("rank", static_cast<int64_t>(rank));
        root.set_attr("world_size", static_cast<int64_t>(world));
        root.open_object(kNames[kItemHidden]).set_attr(checkpoint::kRowBeginAttr, ib + 1);
        root.open_object(kNames[kItemVector]).set_attr(checkpoint::kRowBeginAttr, ib + 1);
        root.open_object(kNames[kUserHidden]).set_attr(checkpoint::kRowBeginAttr, ub);
        root.open_object(kNames[kUserVector]).set_attr(checkpoint::kRowBeginAttr, ub);
      });
    } catch (...) {
      error = std::current_exception();
    }
    if (opt.progress) opt.progress->start("embed", I + U, "row");
    int64_t unsynced = 0;  // rows done since the last agreement
    for (size_t round = 0; round < rounds; ++round) {
      int64_t done = 0;
      if (!error && round < mine.size()) {
        const Task& t = mine[round];
        try {
          std::vector<BuiltPrompt> built;
          std::vector<const BuiltPrompt*> ptrs;
          built.reserve(static_cast<size_t>(t.end - t.begin));
          for (int64_t j = t.begin; j < t.end; ++j) {
            if (t.user) {
              History h = history_for(s, j, "test");
              built.push_back(s.prompts->user({h.items.data(), static_cast<int64_t>(h.items.size())},
                                              {h.timestamps.data(), static_cast<int64_t>(h.timestamps.size())}));
              ptrs.push_back(&built.back());
            } else {
              ptrs.push_back(&s.prompts->item(static_cast<int32_t>(j + 1)));
            }
          }
          at::Tensor h = s.model->encode(ptrs, t.user);
          at::Tensor v = (t.user ? s.model->f_user() : s.model->f_item()).forward(h);
          writer->push(t.user ? kUserHidden : kItemHidden, to_rows(h));
          writer->push(t.user ? kUserVector : kItemVector, to_rows(v));
          done = t.end - t.begin;
        } catch (...) {
          error = std::current_exception();
        }
      }
      unsynced += done;
      if ((round + 1) % kSyncEvery != 0 && round + 1 != rounds) continue;
      int64_t flags[2] = {error ? 1 : 0, unsynced};
      comm.allreduce(flags, 2, cluster::ReduceOp::kSum);  // Collective: every rank, same rounds
      unsynced = 0;
      if (opt.progress) opt.progress->advance(flags[1]);
      if (flags[0] > 0) break;
    }
    if (opt.progress) opt.progress->finish();
    if (!error) {
      try {
        wstats = writer->finish();
      } catch (...) {
        error = std::current_exception();
      }
    }
    bad = failed_ranks(comm, static_cast<bool>(error));  // Collective
  }  // an unfinished writer stops here and closes its part
  if (!bad.empty()) {
    std::error_code ec;
    fs::remove(part, ec);
    fail_together(error, bad, "computing or writing the rows");
  }
  const double compute_s = seconds_since(start);

  // Rank 0 joins the parts while the others wait in the agreement below.
  const auto assemble_start = Clock::now();
  if (rank == 0) {
    try {
      assemble(opt, world, {static_cast<uint64_t>(I + 1), static_cast<uint64_t>(I + 1), static_cast<uint64_t>(U),
                            static_cast<uint64_t>(U)},
               cols, {1, 1, 0, 0});
    } catch (...) {
      error = std::current_exception();
    }
  }
  bad = failed_ranks(comm, static_cast<bool>(error));  // Collective
  if (rank == 0) {
    std::error_code ec;
    for (int r = 0; r < world; ++r) fs::remove(part_path(opt.output, r, world), ec);
  }
  if (!bad.empty()) fail_together(error, bad, "joining the part files");

  const double seconds = seconds_since(start);
  const int64_t rows = I + U;
  std::error_code ec;  // every rank sees the output: part files already required a shared run.dir
  const auto size = fs::file_size(opt.output, ec);
  const auto bytes = ec ? int64_t{0} : static_cast<int64_t>(size);
  nlohmann::json out = {{"output", opt.output},
                        {"items", I},
                        {"users", U},
                        {"rows", rows},
                        {"llm_hidden", D},
                        {"out_dim", K},
                        {"world_size", world},
                        {"batch", opt.batch},
                        {"checkpoint", opt.checkpoint},
                        {"weights", opt.weights},
                        {"seconds", seconds},
                        {"compute_seconds", compute_s},
                        {"assemble_seconds", seconds_since(assemble_start)},
                        {"rows_per_s", compute_s > 0 ? static_cast<double>(rows) / compute_s : 0.0},
                        {"bytes", bytes},
                        {"writer", {{"push_wait_s", wstats.push_wait_s}, {"write_s", wstats.write_s},
                                    {"part_bytes", wstats.bytes}}}};
  if (rank == 0) {
    LOG_INFO("embed: wrote {} ({} rows in {:.1f}s, {:.1f} rows/s; LLM waited {:.2f}s on the writer)", opt.output, rows,
             seconds, out["rows_per_s"].get<double>(), wstats.push_wait_s);
  }
  return out;
}

}  // namespace llmsrec::trainer
