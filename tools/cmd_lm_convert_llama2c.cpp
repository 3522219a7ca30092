// `llmsrec lm convert-llama2c IN.bin TOKENIZER.bin OUTDIR`: llama2.c checkpoint -> HF directory.
#include <CLI/CLI.hpp>

#include "models/llama/llama2c_convert.h"
#include "tools/command.h"

namespace {

class LmConvertLlama2cCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("checkpoint", checkpoint_, "llama2.c version-0 checkpoint (.bin)")->required();
    app.add_option("tokenizer", tokenizer_, "llama2.c tokenizer.bin (copied to OUTDIR/tokenizer.bin)")->required();
    app.add_option("outdir", outdir_, "output HF model directory")->required();
  }
  nlohmann::json run() override {
    auto s = llmsrec::models::llama::convert_llama2c(checkpoint_, tokenizer_, outdir_);
    return {{"outdir", outdir_},
            {"parameters", s.parameters},
            {"shared_classifier", s.shared_classifier},
            {"config", llmsrec::models::llama::llama_config_to_json(s.config)}};
  }

 private:
  std::string checkpoint_, tokenizer_, outdir_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmConvertLlama2cCommand, "lm convert-llama2c",
                         "convert a llama2.c checkpoint + tokenizer.bin to an HF model directory")
