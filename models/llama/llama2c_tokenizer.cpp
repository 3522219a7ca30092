#include "models/llama/llama2c_tokenizer.h"

#include <cstring>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/tokenizer_file.h"

namespace llmsrec::models::llama {

namespace {

constexpr int32_t kUnk = 0, kBos = 1, kEos = 2, kByteOffset = 3;

class Llama2cTokenizer final : public Tokenizer {
 public:
  Llama2cTokenizer(const std::string& bytes, const std::string& source);

  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t bos_id() const override { return kBos; }
  int32_t eos_id() const override { return kEos; }
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  int32_t token_to_id(const std::string& piece) const override {
    auto it = lookup_.find(piece);
    return it == lookup_.end() ? -1 : it->second;
  }

 private:
  std::string source_;
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int32_t> lookup_;  // piece -> lowest id spelling it
};

Llama2cTokenizer::Llama2cTokenizer(const std::string& bytes, const std::string& source) : source_(source) {
  size_t pos = 0;
  auto read = [&](void* dst, size_t n, const char* what) {
    if (bytes.size() - pos < n) {
      throw DataError(fmt::format("{}: truncated at byte {} while reading {} of token {}", source, pos, what, pieces_.size()));
    }
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
  };
  int32_t max_len = 0;
  if (bytes.size() < 4) throw DataError(fmt::format("{}: {} bytes, too short for a llama2.c tokenizer", source, bytes.size()));
  read(&max_len, 4, "max_token_length");
  if (max_len <= 0 || max_len > 1 << 16) {
    throw DataError(fmt::format("{}: max_token_length {} is not plausible (is this a llama2.c tokenizer.bin?)", source, max_len));
  }
  while (pos < bytes.size()) {
    float score = 0;
    int32_t len = 0;
    read(&score, 4, "score");
    read(&len, 4, "length");
    if (len < 0 || len > max_len) {
      throw DataError(fmt::format("{}: token {} has length {}, outside [0, max_token_length={}]", source, pieces_.size(), len, max_len));
    }
    std::string piece(static_cast<size_t>(len), '\0');
    read(piece.data(), piece.size(), "bytes");
    lookup_.emplace(piece, static_cast<int32_t>(pieces_.size()));
    pieces_.push_back(std::move(piece));
    scores_.push_back(score);
  }
  if (pieces_.size() < static_cast<size_t>(kByteOffset + 256)) {
    throw DataError(fmt::format("{}: {} tokens, but llama2.c needs at least {} (unk, BOS, EOS and 256 byte tokens)", source,
                                pieces_.size(), kByteOffset + 256));
  }
}

std::vector<int32_t> Llama2cTokenizer::encode(const std::string& text, bool add_bos) const {
  std::vector<int32_t> ids;
  if (add_bos) ids.push_back(kBos);
  if (!text.empty()) {
    if (int32_t space = token_to_id(" "); space >= 0) ids.push_back(space);  // the dummy prefix
  }
  for (size_t i = 0; i < text.size();) {
    // A byte plus the continuation bytes after it (at most 4), exactly as run.c
    // groups them, so even invalid UTF-8 encodes the same way.
    size_t len = 1;
    while (i + len < text.size() && len < 4 && (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) ++len;
    if (int32_t id = token_to_id(text.substr(i, len)); id >= 0) {
      ids.push_back(id);
    } else {
      for (size_t k = 0; k < len; ++k) ids.push_back(static_cast<unsigned char>(text[i + k]) + kByteOffset);
    }
    i += len;
  }
  // Greedy merges: O(n^2) like run.c; prompts here are short.
  std::string joined;
  while (true) {
    float best_score = -std::numeric_limits<float>::infinity();
    int32_t best_id = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      joined = pieces_[ids[i]];
      joined += pieces_[ids[i + 1]];
      auto it = lookup_.find(joined);
      if (it != lookup_.end() && scores_[it->second] > best_score) {
        best_score = scores_[it->second];
        best_id = it->second;
        best_at = i;
      }
    }
    if (best_id < 0) break;
    ids[best_at] = best_id;
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  return ids;
}

std::string Llama2cTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  bool at_start = true;  // run.c drops the dummy-prefix space of the first piece after BOS
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw DataError(fmt::format("{}: cannot decode token id {}: outside [0, {})", source_, id, vocab_size()));
    }
    if (id == kBos || id == kEos || id == kUnk) {
      at_start = id == kBos;
      continue;
    }
    if (id >= kByteOffset && id < kByteOffset + 256) {
      out += static_cast<char>(id - kByteOffset);
    } else {
      const std::string& p = pieces_[id];
      out.append(at_start && !p.empty() && p[0] == ' ' ? p.substr(1) : p);
    }
    at_start = false;
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> parse_llama2c_tokenizer(const std::string& bytes, const std::string& source) {
  return std::make_unique<Llama2cTokenizer>(bytes, source);
}

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path) {
  return parse_llama2c_tokenizer(read_tokenizer_file(path), path);
}

}  // namespace llmsrec::models::llama
