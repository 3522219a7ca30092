// The config sections a stage reads, as views (the aggregate lives in app/):
// a stage takes these plus the run context, so trainer/ never depends on the
// sections of stages it does not run.
//
//   trainer::LlmSrecSections s{cfg.run, cfg.llm, cfg.prompt, cfg.train, cfg.embed};
//   trainer::train_llmsrec(s, ctx, {});
#pragma once

namespace llmsrec::core {
struct RunSection;
}
namespace llmsrec::models::llama {
struct LlmConfig;
}
namespace llmsrec::models::prompt {
struct PromptConfig;
}

namespace llmsrec::trainer {

struct TrainConfig;
struct EmbedConfig;
struct TeacherConfig;

// llmsrec train / embed / eval / bench train.
struct LlmSrecSections {
  const core::RunSection& run;
  const models::llama::LlmConfig& llm;
  const models::prompt::PromptConfig& prompt;
  const TrainConfig& train;
  const EmbedConfig& embed;
};

// llmsrec teacher train / eval / export.
struct TeacherSections {
  const core::RunSection& run;
  const TeacherConfig& teacher;
};

}  // namespace llmsrec::trainer
