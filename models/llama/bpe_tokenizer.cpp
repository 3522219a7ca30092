#include "models/llama/bpe_tokenizer.h"

#include <array>
#include <filesystem>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/byte_level.h"
#include "models/llama/normalizer.h"
#include "models/llama/pre_tokenizer.h"
#include "models/llama/token_decoder.h"
#include "models/llama/tokenizer_file.h"

namespace llmsrec::models::llama {

namespace {

using nlohmann::json;

// Ids above this are rejected: a corrupt file must not make us allocate gigabytes.
constexpr int64_t kMaxTokenId = 1 << 24;
// Memoized words; the cache is cleared when it grows past this.
constexpr size_t kWordCacheEntries = 1 << 18;

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;  // swallow whitespace on the left
  bool rstrip = false;  // swallow whitespace on the right
};

// Field access that names the JSON path of what is wrong.
const json& need(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) throw DataError(fmt::format("{}: missing '{}'", where, key));
  return *it;
}

const std::string& need_string(const json& obj, const char* key, const std::string& where) {
  const json& v = need(obj, key, where);
  if (!v.is_string()) throw DataError(fmt::format("{}: '{}' must be a string, found {}", where, key, v.type_name()));
  return v.get_ref<const std::string&>();
}

int32_t need_id(const json& v, const std::string& where) {
  if (!v.is_number_integer()) throw DataError(fmt::format("{}: token id must be an integer, found {}", where, v.type_name()));
  int64_t id = v.get<int64_t>();
  if (id < 0 || id >= kMaxTokenId) throw DataError(fmt::format("{}: token id {} out of range [0, {})", where, id, kMaxTokenId));
  return static_cast<int32_t>(id);
}

bool optional_bool(const json& obj, const char* key, bool fallback, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw DataError(fmt::format("{}: '{}' must be true or false, found {}", where, key, it->type_name()));
  return it->get<bool>();
}

// tokenizer_config.json writes tokens as "…" or {"content": "…", ...}.
std::string config_token(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return {};
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(const json& root, const json& config, const std::string& source);

  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t bos_id() const override { return bos_id_; }
  int32_t eos_id() const override { return eos_id_; }
  int64_t vocab_size() const override { return static_cast<int64_t>(id_to_piece_.size()); }
  int32_t token_to_id(const std::string& piece) const override;

 private:
  void parse_model(const json& model, const std::string& where);
  void parse_added_tokens(const json& added, const std::string& where);
  void parse_post_processor(const json& post, const std::string& where);
  void encode_segment(std::string_view segment, std::vector<int32_t>& ids) const;
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;
  void initial_symbols(std::string_view word, std::vector<int32_t>& symbols) const;
  void merge(std::vector<int32_t>& symbols) const;
  // Position and token of the leftmost-longest added token in text[from..), or npos.
  std::pair<size_t, const AddedToken*> find_added(std::string_view text, size_t from) const;

  std::string source_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_piece_;
  std::vector<uint8_t> is_added_;
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> rank, merged id
  std::array<int32_t, 256> byte_ids_{};          // byte-level stand-ins, or <0xXX> byte-fallback tokens
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;

  std::vector<AddedToken> added_;                       // longest first
  std::array<std::vector<uint32_t>, 256> added_by_first_;  // first byte -> indices into added_
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<TokenDecoder> decoder_;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;

  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> word_cache_;
};

BpeTokenizer::BpeTokenizer(const json& root, const json& config, const std::string& source) : source_(source) {
  if (!root.is_object()) throw DataError(fmt::format("{}: top level must be a JSON object, found {}", source, root.type_name()));
  auto model = root.find("model");
  if (model == root.end() || !model->is_object()) {
    throw DataError(fmt::format("{}: missing 'model' object (is this a HF tokenizer.json?)", source));
  }
  parse_model(*model, source + ": model");
  parse_added_tokens(root.contains("added_tokens") ? root["added_tokens"] : json::array(), source + ": added_tokens");
  normalizer_ = std::make_unique<Normalizer>(root.value("normalizer", json()), source + ": normalizer");
  pre_tokenizer_ = std::make_unique<PreTokenizer>(root.value("pre_tokenizer", json()), source + ": pre_tokenizer");
  decoder_ = std::make_unique<TokenDecoder>(root.value("decoder", json()), source + ": decoder");

  // Byte-level models start BPE from the 256 stand-in characters; others from
  // characters, with <0xXX> tokens for bytes of characters not in the vocab.
  const auto& table = byte_level_table();
  for (int b = 0; b < 256; ++b) {
    const std::string key = pre_tokenizer_->byte_level() ? table.byte_to_utf8[b] : fmt::format("<0x{:02X}>", b);
    auto it = vocab_.find(key);
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  if (byte_fallback_ && !pre_tokenizer_->byte_level()) {
    for (int b = 0; b < 256; ++b) {
      if (byte_ids_[b] < 0) throw DataError(fmt::format("{}: model.byte_fallback is set but '<0x{:02X}>' is not in the vocab", source, b));
    }
  }

  parse_post_processor(root.value("post_processor", json()), source + ": post_processor");
  if (bos_id_ < 0 && config.is_object() && optional_bool(config, "add_bos_token", true, "tokenizer_config.json")) {
    bos_id_ = token_to_id(config_token(config, "bos_token"));
  }
  if (config.is_object()) eos_id_ = token_to_id(config_token(config, "eos_token"));
  for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"}) {
    if (eos_id_ < 0) eos_id_ = token_to_id(name);
  }
}

void BpeTokenizer::parse_model(const json& model, const std::string& where) {
  if (auto t = model.find("type"); t != model.end() && !(t->is_string() && t->get<std::string>() == "BPE")) {
    throw DataError(fmt::format("{}: unsupported model type {} (only BPE)", where, t->dump()));
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model.find(key);
    if (it != model.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty())) {
      throw DataError(fmt::format("{}: '{}' is not supported", where, key));
    }
  }
  const json& vocab = need(model, "vocab", where);
  if (!vocab.is_object()) throw DataError(fmt::format("{}: 'vocab' must be an object, found {}", where, vocab.type_name()));
  vocab_.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    int32_t id = need_id(it.value(), fmt::format("{}.vocab[{}]", where, json(it.key()).dump()));
    if (static_cast<size_t>(id) >= id_to_piece_.size()) {
      id_to_piece_.resize(id + 1);
      is_added_.resize(id + 1, 0);
    }
    if (!id_to_piece_[id].empty()) {
      throw DataError(fmt::format("{}.vocab: id {} used twice ({} and {})", where, id, json(id_to_piece_[id]).dump(),
                                  json(it.key()).dump()));
    }
    id_to_piece_[id] = it.key();
    vocab_.emplace(it.key(), id);
  }
  byte_fallback_ = optional_bool(model, "byte_fallback", false, where);
  ignore_merges_ = optional_bool(model, "ignore_merges", false, where);
  fuse_unk_ = optional_bool(model, "fuse_unk", false, where);
  if (auto unk = model.find("unk_token"); unk != model.end() && !unk->is_null()) {
    if (!unk->is_string()) throw DataError(fmt::format("{}: 'unk_token' must be a string or null", where));
    auto it = vocab_.find(unk->get<std::string>());
    if (it == vocab_.end()) throw DataError(fmt::format("{}: unk_token {} is not in the vocab", where, unk->dump()));
    unk_id_ = it->second;
  }

  const json& merges = need(model, "merges", where);
  if (!merges.is_array()) throw DataError(fmt::format("{}: 'merges' must be an array, found {}", where, merges.type_name()));
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& m = merges[rank];
    std::string left, right;
    if (m.is_string()) {  // "a b" (tokenizers < 0.20)
      const auto& s = m.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        throw DataError(fmt::format("{}.merges[{}]: {} is not two tokens separated by one space", where, rank, m.dump()));
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {  // ["a", "b"]
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      throw DataError(fmt::format("{}.merges[{}]: expected \"a b\" or [\"a\", \"b\"], found {}", where, rank, m.dump()));
    }
    auto l = vocab_.find(left), r = vocab_.find(right), lr = vocab_.find(left + right);
    for (auto [it, tok] : {std::pair{l, &left}, std::pair{r, &right}}) {
      if (it == vocab_.end()) {
        throw DataError(fmt::format("{}.merges[{}]: token {} is not in the vocab", where, rank, json(*tok).dump()));
      }
    }
    if (lr == vocab_.end()) {
      throw DataError(fmt::format("{}.merges[{}]: merged token {} is not in the vocab", where, rank, json(left + right).dump()));
    }
    uint64_t key = (static_cast<uint64_t>(l->second) << 32) | static_cast<uint32_t>(r->second);
    merges_.emplace(key, Merge{static_cast<int32_t>(rank), lr->second});  // first (lowest) rank wins
  }
}

void BpeTokenizer::parse_added_tokens(const json& added, const std::string& where) {
  if (!added.is_array()) throw DataError(fmt::format("{}: must be an array, found {}", where, added.type_name()));
  for (size_t i = 0; i < added.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", where, i);
    const json& a = added[i];
    if (!a.is_object()) throw DataError(fmt::format("{}: must be an object, found {}", at, a.type_name()));
    AddedToken tok;
    tok.id = need_id(need(a, "id", at), at);
    tok.content = need_string(a, "content", at);
    if (tok.content.empty()) throw DataError(fmt::format("{}: empty 'content'", at));
    tok.special = optional_bool(a, "special", false, at);
    tok.lstrip = optional_bool(a, "lstrip", false, at);
    tok.rstrip = optional_bool(a, "rstrip", false, at);
    if (static_cast<size_t>(tok.id) >= id_to_piece_.size()) {
      id_to_piece_.resize(tok.id + 1);
      is_added_.resize(tok.id + 1, 0);
    }
    id_to_piece_[tok.id] = tok.content;  // may shadow a vocab entry with the same id (HF does the same)
    is_added_[tok.id] = 1;
    added_.push_back(std::move(tok));
  }
  std::stable_sort(added_.begin(), added_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  for (uint32_t i = 0; i < added_.size(); ++i) {
    added_by_first_[static_cast<unsigned char>(added_[i].content[0])].push_back(i);
  }
}

void BpeTokenizer::parse_post_processor(const json& post, const std::string& where) {
  if (post.is_null()) return;
  if (!post.is_object()) throw DataError(fmt::format("{}: expected an object or null", where));
  const std::string& type = need_string(post, "type", where);
  if (type == "Sequence") {
    const json& list = need(post, "processors", where);
    if (!list.is_array()) throw DataError(fmt::format("{}: 'processors' must be an array", where));
    for (size_t i = 0; i < list.size(); ++i) parse_post_processor(list[i], fmt::format("{}.processors[{}]", where, i));
    return;
  }
  if (type != "TemplateProcessing") return;  // ByteLevel, Roberta, ...: no BOS of their own
  const json& single = need(post, "single", where);
  if (!single.is_array()) throw DataError(fmt::format("{}: 'single' must be an array", where));
  // A SpecialToken before the sequence "A" is the BOS.
  for (const json& piece : single) {
    if (!piece.is_object()) throw DataError(fmt::format("{}: 'single' entries must be objects", where));
    if (piece.contains("Sequence")) break;
    if (auto sp = piece.find("SpecialToken"); sp != piece.end()) {
      if (!sp->is_object()) throw DataError(fmt::format("{}: SpecialToken must be an object", where));
      const std::string& name = need_string(*sp, "id", where + ".single");
      const json& specials = need(post, "special_tokens", where);
      int32_t id = -1;
      if (specials.is_object() && specials.contains(name) && specials[name].is_object() &&
          specials[name].contains("ids") && specials[name]["ids"].is_array() && !specials[name]["ids"].empty()) {
        id = need_id(specials[name]["ids"][0], where + ".special_tokens");
      } else {
        id = token_to_id(name);
      }
      if (id < 0 || id >= vocab_size()) throw DataError(fmt::format("{}: special token '{}' has no id in the vocab", where, name));
      bos_id_ = id;
      return;
    }
  }
}

int32_t BpeTokenizer::token_to_id(const std::string& piece) const {
  if (piece.empty()) return -1;
  for (const auto& a : added_) {
    if (a.content == piece) return a.id;
  }
  auto it = vocab_.find(piece);
  return it == vocab_.end() ? -1 : it->second;
}

std::pair<size_t, const AddedToken*> BpeTokenizer::find_added(std::string_view text, size_t from) const {
  if (added_.empty()) return {std::string_view::npos, nullptr};
  for (size_t i = from; i < text.size(); ++i) {
    for (uint32_t k : added_by_first_[static_cast<unsigned char>(text[i])]) {
      const std::string& c = added_[k].content;
      if (text.compare(i, c.size(), c) == 0) return {i, &added_[k]};
    }
  }
  return {std::string_view::npos, nullptr};
}

std::vector<int32_t> BpeTokenizer::encode(const std::string& text, bool add_bos) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (add_bos && bos_id_ >= 0) ids.push_back(bos_id_);
  std::string_view rest(text);
  size_t pos = 0;
  while (pos <= rest.size()) {
    auto [at, tok] = find_added(rest, pos);
    size_t end = tok ? at : rest.size();
    std::string_view segment = rest.substr(pos, end - pos);
    if (tok && tok->lstrip) {
      while (!segment.empty() && is_space(segment.back())) segment.remove_suffix(1);
    }
    encode_segment(segment, ids);
    if (!tok) break;
    ids.push_back(tok->id);
    pos = at + tok->content.size();
    if (tok->rstrip) {
      while (pos < rest.size() && is_space(rest[pos])) ++pos;
    }
  }
  return ids;
}

void BpeTokenizer::encode_segment(std::string_view segment, std::vector<int32_t>& ids) const {
  if (segment.empty()) return;
  std::string normalized;
  if (!normalizer_->is_identity()) {
    normalized = normalizer_->apply(segment);
    segment = normalized;
  }
  if (pre_tokenizer_->add_prefix_space() && !segment.empty() && segment[0] != ' ') {
    if (normalized.empty()) normalized.assign(segment);
    normalized.insert(0, 1, ' ');
    segment = normalized;
  }
  std::vector<std::string_view> words;
  pre_tokenizer_->split(segment, words);
  for (auto w : words) encode_word(w, ids);
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  std::string key(word);
  {
    std::shared_lock lock(cache_mutex_);
    if (auto it = word_cache_.find(key); it != word_cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> symbols;
  if (ignore_merges_) {  // a word that is itself a token skips the merges
    auto it = vocab_.find(pre_tokenizer_->byte_level() ? bytes_to_byte_level(word) : key);
    if (it != vocab_.end()) symbols.push_back(it->second);
  }
  if (symbols.empty()) {
    initial_symbols(word, symbols);
    merge(symbols);
  }
  ids.insert(ids.end(), symbols.begin(), symbols.end());
  std::unique_lock lock(cache_mutex_);
  if (word_cache_.size() >= kWordCacheEntries) word_cache_.clear();
  word_cache_.emplace(std::move(key), std::move(symbols));
}

void BpeTokenizer::initial_symbols(std::string_view word, std::vector<int32_t>& symbols) const {
  if (pre_tokenizer_->byte_level()) {
    for (unsigned char b : word) {
      if (byte_ids_[b] >= 0) {
        symbols.push_back(byte_ids_[b]);
      } else if (unk_id_ >= 0 && !(fuse_unk_ && !symbols.empty() && symbols.back() == unk_id_)) {
        symbols.push_back(unk_id_);
      }
    }
    return;
  }
  std::string ch;
  for (size_t i = 0; i < word.size();) {
    size_t len = utf8_char_len(word, i);
    ch.assign(word.substr(i, len));
    if (auto it = vocab_.find(ch); it != vocab_.end()) {
      symbols.push_back(it->second);
    } else if (byte_fallback_) {
      for (unsigned char b : ch) symbols.push_back(byte_ids_[b]);
    } else if (unk_id_ >= 0 && !(fuse_unk_ && !symbols.empty() && symbols.back() == unk_id_)) {
      symbols.push_back(unk_id_);
    }
    i += len;
  }
}

// Applies merges lowest rank first (leftmost on ties), like HF tokenizers: a
// min-heap of candidate pairs over a doubly linked list of symbols; stale heap
// entries (a side already merged away) are skipped when popped.
void BpeTokenizer::merge(std::vector<int32_t>& symbols) const {
  const int n = static_cast<int>(symbols.size());
  if (n < 2 || merges_.empty()) return;
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    int32_t rank;
    int pos;
    int32_t left, right, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto consider = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    uint64_t key = (static_cast<uint64_t>(symbols[pos]) << 32) | static_cast<uint32_t>(symbols[next[pos]]);
    if (auto it = merges_.find(key); it != merges_.end()) {
      heap.push({it->second.rank, pos, symbols[pos], symbols[next[pos]], it->second.id});
    }
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  std::vector<uint8_t> alive(n, 1);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    const int r = alive[c.pos] ? next[c.pos] : -1;
    if (r < 0 || symbols[c.pos] != c.left || symbols[r] != c.right) continue;
    symbols[c.pos] = c.merged;
    alive[r] = 0;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    consider(prev[c.pos]);
    consider(c.pos);
  }
  int out = 0;
  for (int i = 0; i >= 0; i = next[i]) symbols[out++] = symbols[i];
  symbols.resize(out);
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  std::vector<std::string> run;  // ordinary tokens since the last added token
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      throw DataError(fmt::format("{}: cannot decode token id {}: outside [0, {})", source_, id, vocab_size()));
    }
    if (is_added_[id]) {
      out += decoder_->decode(std::move(run));
      run.clear();
      out += id_to_piece_[id];
    } else {
      run.push_back(id_to_piece_[id]);
    }
  }
  out += decoder_->decode(std::move(run));
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> parse_bpe_tokenizer(const std::string& json_text, const std::string& source,
                                               const std::string& config_text) {
  json root, config;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    throw DataError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!config_text.empty()) {
    try {
      config = json::parse(config_text);
    } catch (const json::exception& e) {
      throw DataError(fmt::format("{}: tokenizer_config.json next to it is not valid JSON: {}", source, e.what()));
    }
  }
  try {
    return std::make_unique<BpeTokenizer>(root, config, source);
  } catch (const json::exception& e) {  // a type mismatch the explicit checks did not anticipate
    throw DataError(fmt::format("{}: unexpected JSON structure: {}", source, e.what()));
  }
}

std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::string& path) {
  const auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  std::string config_text;
  if (std::filesystem::exists(config_path)) config_text = read_tokenizer_file(config_path.string());
  return parse_bpe_tokenizer(read_tokenizer_file(path), path, config_text);
}

}  // namespace llmsrec::models::llama
