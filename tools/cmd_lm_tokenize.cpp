// `llmsrec lm tokenize DIR --text T [--bos] [--decode] [--json]`: encode text with a
// model directory's tokenizer (or decode --ids), for parity checks against
// other tokenizer implementations.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/byte_level.h"
#include "models/llama/tokenizer.h"
#include "models/llama/tokenizer_file.h"
#include "tools/command.h"

namespace {

// JSON strings must be UTF-8: invalid bytes become U+FFFD (flagged in the summary).
std::string printable_utf8(const std::string& s, bool& lossy) {
  namespace llama = llmsrec::models::llama;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t len = llama::utf8_char_len(s, i);
    if (len == 1 && static_cast<unsigned char>(s[i]) >= 0x80) {
      out += "\xEF\xBF\xBD";
      lossy = true;
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  return out;
}

class LmTokenizeCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("dir", dir_, "model directory or tokenizer file (tokenizer.json / .model / .bin)")->required();
    auto* text = app.add_option("--text", text_, "text to encode");
    auto* file = app.add_option("--text-file", text_file_, "encode the exact bytes of this file");
    auto* ids = app.add_option("--ids", ids_, "decode these ids instead (comma separated)")->delimiter(',');
    text->excludes(file);
    ids->excludes(text);
    ids->excludes(file);
    app.add_flag("--bos", bos_, "prepend the tokenizer's BOS");
    app.add_flag("--decode", decode_, "also decode the encoded ids back to text");
  }

  nlohmann::json run() override {
    namespace llama = llmsrec::models::llama;
    auto tok = llama::load_tokenizer(dir_);
    nlohmann::json out = {{"vocab_size", tok->vocab_size()}, {"bos_id", tok->bos_id()}, {"eos_id", tok->eos_id()}};
    if (!ids_.empty()) {
      bool lossy = false;
      out["text"] = printable_utf8(tok->decode(ids_), lossy);
      if (lossy) out["text_invalid_utf8"] = true;
      return out;
    }
    if (!text_file_.empty()) text_ = llama::read_tokenizer_file(text_file_);
    std::vector<int32_t> ids = tok->encode(text_, bos_);
    out["ids"] = ids;
    if (decode_) {
      bool lossy = false;
      out["decoded"] = printable_utf8(tok->decode(ids), lossy);
      if (lossy) out["decoded_invalid_utf8"] = true;
    }
    return out;
  }

 private:
  std::string dir_, text_, text_file_;
  std::vector<int32_t> ids_;
  bool bos_ = false, decode_ = false;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(LmTokenizeCommand, "lm tokenize", "encode text (or decode ids) with a model's tokenizer")
