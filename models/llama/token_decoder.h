// The HF `decoder` of a tokenizer.json: turns the pieces of a run of ordinary
// (non-added) tokens back into text. Supports ByteLevel, Replace, ByteFallback,
// Fuse, Strip, Metaspace and Sequence; null joins the pieces.
//
//   TokenDecoder dec(json["decoder"], "tokenizer.json: decoder");
//   std::string text = dec.decode({"Hello", "Ġworld"});  // "Hello world"
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace llmsrec::models::llama {

class TokenDecoder {
 public:
  // Throws DataError naming `where` for unknown types or bad fields.
  TokenDecoder(const nlohmann::json& spec, const std::string& where);

  std::string decode(std::vector<std::string> pieces) const;

 private:
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace };
  struct Step {
    Kind kind = Kind::kByteLevel;
    std::string from, to;  // Replace; Strip: from = content; Metaspace: from = replacement
    size_t start = 0, stop = 0;  // Strip
    bool prepend = false;        // Metaspace: strip the space it prepended
  };
  void parse(const nlohmann::json& spec, const std::string& where);
  std::vector<Step> steps_;
};

}  // namespace llmsrec::models::llama
