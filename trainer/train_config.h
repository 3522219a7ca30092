// Config section `train`: LLM-SRec training (llmsrec train), with the
// reference's defaults (Adam lr 1e-4, betas 0.9/0.98, batch 20, 10 validations
// per epoch, lr x0.95 after each, early stop after 5 without HR@10 gain).
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"
#include "trainer/loss_config.h"

namespace llmsrec::trainer {

struct TrainConfig : core::ConfigSection {
  std::string dataset = "dataset.h5";   // under run.dir (llmsrec prepare)
  std::string targets = "targets.h5";   // under run.dir (llmsrec teacher export)
  int64_t batch = 20;                   // users per rank per step (global batch = ranks x batch)
  std::string optimizer = "adam";       // adam (reference) | sgd
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.98;
  int64_t epochs = 10;                  // at most
  int64_t max_steps = 0;                // stop after this many steps (0 = no cap)
  int64_t validations_per_epoch = 10;
  double lr_decay = 0.95;               // lr multiplier after each validation
  int64_t patience = 5;                 // validations without HR@10 gain before early stop
  int64_t valid_users = 10000;          // fixed seeded subset of validation users
  int64_t negatives = 3;                // sampled negative candidates per user per step
  int64_t user_hidden = 2048;           // f_user / f_item hidden width
  int64_t out_dim = 128;                // shared score space of f_user, f_item, f_CF-user
  int64_t cf_hidden = 128;              // f_CF-user hidden width
  int64_t checkpoint_every = 0;         // steps between checkpoints (0 = at every validation)
  int64_t keep_checkpoints = 3;
  std::string on_corrupt_checkpoint = "error";  // --resume when the newest is unreadable: error | previous
  int64_t param_check_every = 50;       // steps between cross-rank parameter hash checks
  LossConfig loss;

  void visit(core::ConfigVisitor& v) override {
    v.field("dataset", dataset, "dataset.h5 (relative to run.dir)");
    v.field("targets", targets, "teacher targets.h5 (relative to run.dir)");
    v.field("batch", batch, "users per rank per step; the global batch is ranks x batch");
    v.choice("optimizer", optimizer, {"adam", "sgd"},
             "adam (the reference) or plain SGD (no per-element normalisation: used to test data-parallel equivalence)");
    v.field("lr", lr, "learning rate");
    v.field("beta1", beta1, "Adam beta1");
    v.field("beta2", beta2, "Adam beta2");
    v.field("epochs", epochs, "maximum number of epochs");
    v.field("max_steps", max_steps, "stop after this many optimizer steps (0 = no cap)");
    v.field("validations_per_epoch", validations_per_epoch, "validations per epoch (lr decay and early stop follow them)");
    v.field("lr_decay", lr_decay, "learning-rate multiplier applied after each validation");
    v.field("patience", patience, "validations without HR@10 improvement before early stopping");
    v.field("valid_users", valid_users, "size of the fixed, seeded subset of validation users");
    v.field("negatives", negatives, "negative candidates sampled per user and step (uniform, not in the history)");
    v.field("user_hidden", user_hidden, "hidden width of f_user and f_item");
    v.field("out_dim", out_dim, "output width of f_user, f_item and f_CF-user");
    v.field("cf_hidden", cf_hidden, "hidden width of f_CF-user");
    v.field("checkpoint_every", checkpoint_every, "steps between checkpoints; 0 = at every validation");
    v.field("keep_checkpoints", keep_checkpoints, "checkpoints kept in run.dir (older ones are deleted)");
    v.choice("on_corrupt_checkpoint", on_corrupt_checkpoint, {"error", "previous"},
             "--resume when the newest checkpoint is unreadable (truncated, checksum mismatch, foreign): error (name it "
             "and the readable previous one) or previous (warn, resume from the newest readable older one)");
    v.field("param_check_every", param_check_every, "steps between cross-rank checks that parameters are identical");
    v.section("loss", loss, "loss terms and ablation switches");
  }
  void validate(const std::string& path) const override;
};

}  // namespace llmsrec::trainer
