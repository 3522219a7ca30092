// `llmsrec teacher train | eval | export | bench`: the SASRec teacher.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/error.h"
#include "core/progress.h"
#include "app/run_config.h"
#include "data/dataset.h"
#include "tools/command.h"
#include "trainer/teacher_eval.h"
#include "trainer/teacher_export.h"
#include "trainer/teacher_train.h"

namespace {

using llmsrec::app::RunConfig;

// Options shared by the teacher commands: the dataset and the checkpoint default to run.dir.
class TeacherCommand : public llmsrec::tools::Command {
 protected:
  void add_paths(CLI::App& app) {
    add_config_options(app);
    app.add_option("--dataset", dataset_, "dataset.h5 (default: run.dir/data.output)");
    app.add_option("--teacher", teacher_, "teacher.h5 (default: run.dir/teacher.output)");
  }
  std::string dataset_path(const RunConfig& cfg) const {
    return dataset_.empty() ? cfg.run.output_path(cfg.data.output) : dataset_;
  }
  std::string teacher_path(const RunConfig& cfg) const {
    return teacher_.empty() ? cfg.run.output_path(cfg.teacher.output) : teacher_;
  }
  std::string dataset_, teacher_;
};

class TeacherTrainCommand : public TeacherCommand {
 public:
  void add_options(CLI::App& app) override {
    add_paths(app);
    app.add_flag("--resume", resume_, "continue from teacher.h5's last saved epoch (same result as an uninterrupted run)");
  }
  nlohmann::json run() override {
    RunConfig cfg = load_config();
    if (!teacher_.empty()) cfg.teacher.output = teacher_;
    auto ds = llmsrec::data::load_dataset(dataset_path(cfg));
    llmsrec::core::TerminalProgress progress;
    llmsrec::trainer::TeacherTrainOptions opt;
    opt.resume = resume_;
    opt.progress = &progress;
    return llmsrec::trainer::train_teacher(llmsrec::app::teacher_sections(cfg), ds, opt);
  }

 private:
  bool resume_ = false;
};

class TeacherEvalCommand : public TeacherCommand {
 public:
  void add_options(CLI::App& app) override {
    add_paths(app);
    app.add_option("--split", split_, "valid | test | both")->check(CLI::IsMember({"valid", "test", "both"}));
    app.add_option("--weights", weights_, "best | last")->check(CLI::IsMember({"best", "last"}));
    app.add_flag("--sasrec", sasrec_, "also the SASRec paper's protocol (100 fresh negatives, <= teacher.eval_users users)");
  }
  nlohmann::json run() override {
    RunConfig cfg = load_config();
    auto ds = llmsrec::data::load_dataset(dataset_path(cfg));
    std::vector<llmsrec::trainer::EvalSplit> splits;
    if (split_ != "test") splits.push_back(llmsrec::trainer::EvalSplit::kValid);
    if (split_ != "valid") splits.push_back(llmsrec::trainer::EvalSplit::kTest);
    return llmsrec::trainer::evaluate_teacher_checkpoint(llmsrec::app::teacher_sections(cfg), ds, teacher_path(cfg), weights_, splits,
                                                          sasrec_ || cfg.teacher.eval_protocol == "sasrec");
  }

 private:
  std::string split_ = "both", weights_ = "best";
  bool sasrec_ = false;
};

class TeacherExportCommand : public TeacherCommand {
 public:
  void add_options(CLI::App& app) override {
    add_paths(app);
    app.add_option("-o,--output", output_, "targets.h5 (default: run.dir/teacher.export.output)");
  }
  nlohmann::json run() override {
    RunConfig cfg = load_config();
    auto ds = llmsrec::data::load_dataset(dataset_path(cfg));
    llmsrec::core::TerminalProgress progress;
    const std::string out = output_.empty() ? cfg.run.output_path(cfg.teacher.export_.output) : output_;
    return llmsrec::trainer::export_teacher(llmsrec::app::teacher_sections(cfg), ds, teacher_path(cfg), out, &progress);
  }

 private:
  std::string output_;
};

// Trains N epochs without checkpoints or evaluation and reports seconds per
// epoch against the reference's seconds per epoch (pmixer/SASRec.pytorch on
// Debian's PyTorch 1.13, 2 threads: measured separately, passed in).
class TeacherBenchCommand : public TeacherCommand {
 public:
  void add_options(CLI::App& app) override {
    add_paths(app);
    app.add_option("--epochs", epochs_, "epochs to time");
    app.add_option("--reference-s", reference_s_, "reference seconds per epoch (same machine, same settings)");
  }
  nlohmann::json run() override {
    RunConfig cfg = load_config();
    cfg.teacher.epochs = epochs_;
    auto ds = llmsrec::data::load_dataset(dataset_path(cfg));
    llmsrec::trainer::TeacherTrainOptions opt;
    opt.write_checkpoint = false;
    opt.final_eval = false;
    cfg.teacher.eval_every = 0;
    nlohmann::json r = llmsrec::trainer::train_teacher(llmsrec::app::teacher_sections(cfg), ds, opt);
    const double s = r["seconds_per_epoch"].get<double>();
    return {{"epochs", epochs_},
            {"seconds_per_epoch", s},
            {"reference_seconds_per_epoch", reference_s_},
            {"speedup_vs_reference", s > 0 ? reference_s_ / s : 0.0},
            {"threads", llmsrec::trainer::teacher_threads(llmsrec::app::teacher_sections(cfg))},
            {"loss", r["loss"]}};
  }

 private:
  int64_t epochs_ = 3;
  double reference_s_ = 42.0;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(TeacherTrainCommand, "teacher train", "train the SASRec teacher -> teacher.h5")
LLMSREC_REGISTER_COMMAND(TeacherEvalCommand, "teacher eval", "HR/NDCG@10/20 of teacher.h5 on valid/test (fixed, full, sasrec)")
LLMSREC_REGISTER_COMMAND(TeacherExportCommand, "teacher export", "teacher.h5 -> targets.h5 (item table E, O_u, prefixes)")
LLMSREC_REGISTER_COMMAND(TeacherBenchCommand, "teacher bench", "seconds per training epoch vs the reference's")
