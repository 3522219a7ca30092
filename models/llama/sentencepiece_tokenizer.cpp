#include "models/llama/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "core/error.h"
#include "models/llama/spm_plugin/spm_plugin_abi.h"

namespace llmsrec::models::llama {

namespace {

constexpr const char* kPluginName = "libllmsrec_spm.so";

// The plugin's entry points. Loaded once per process and never unloaded: the
// handle is a process-wide resource like the dynamic linker's own tables.
struct SpmApi {
  std::string path;
  decltype(&llmsrec_spm_create) create = nullptr;
  decltype(&llmsrec_spm_destroy) destroy = nullptr;
  decltype(&llmsrec_spm_encode) encode = nullptr;
  decltype(&llmsrec_spm_decode) decode = nullptr;
  decltype(&llmsrec_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&llmsrec_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&llmsrec_spm_is_special) is_special = nullptr;
  decltype(&llmsrec_spm_bos_id) bos_id = nullptr;
  decltype(&llmsrec_spm_eos_id) eos_id = nullptr;
  decltype(&llmsrec_spm_vocab_size) vocab_size = nullptr;
};

std::vector<std::string> plugin_candidates() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("LLMSREC_SPM_PLUGIN"); env && *env) paths.emplace_back(env);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) paths.push_back((exe.parent_path() / kPluginName).string());
#ifdef LLMSREC_SPM_PLUGIN_PATH
  paths.emplace_back(LLMSREC_SPM_PLUGIN_PATH);
#endif
  return paths;
}

template <typename F>
void bind(void* handle, const char* name, F& fn, const std::string& path) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  if (!fn) throw IoError(fmt::format("{}: SentencePiece plugin lacks symbol {}", path, name));
}

const SpmApi& spm_api() {
  static std::once_flag once;
  static SpmApi api;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& path : plugin_candidates()) {
      if (!std::filesystem::exists(path)) {
        tried += fmt::format("\n  {}: not found", path);
        continue;
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (!handle) {
        tried += fmt::format("\n  {}: {}", path, dlerror());
        continue;
      }
      try {
        decltype(&llmsrec_spm_abi_version) version = nullptr;
        bind(handle, "llmsrec_spm_abi_version", version, path);
        if (version() != LLMSREC_SPM_ABI_VERSION) {
          throw IoError(fmt::format("{}: plugin ABI version {} but llmsrec expects {}", path, version(), LLMSREC_SPM_ABI_VERSION));
        }
        api.path = path;
        bind(handle, "llmsrec_spm_create", api.create, path);
        bind(handle, "llmsrec_spm_destroy", api.destroy, path);
        bind(handle, "llmsrec_spm_encode", api.encode, path);
        bind(handle, "llmsrec_spm_decode", api.decode, path);
        bind(handle, "llmsrec_spm_id_to_piece", api.id_to_piece, path);
        bind(handle, "llmsrec_spm_piece_to_id", api.piece_to_id, path);
        bind(handle, "llmsrec_spm_is_special", api.is_special, path);
        bind(handle, "llmsrec_spm_bos_id", api.bos_id, path);
        bind(handle, "llmsrec_spm_eos_id", api.eos_id, path);
        bind(handle, "llmsrec_spm_vocab_size", api.vocab_size, path);
        return;
      } catch (const IoError& e) {
        tried += fmt::format("\n  {}", e.what());
        api = SpmApi{};
      }
    }
    failure = "cannot load the SentencePiece plugin " + std::string(kPluginName) +
              " (set LLMSREC_SPM_PLUGIN to its path); tried:" + tried;
  });
  if (!api.create) throw IoError(failure);
  return api;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& path) : api_(spm_api()), path_(path) {
    char err[512] = {0};
    handle_ = api_.create(path.c_str(), err, sizeof(err));
    if (!handle_) throw DataError(fmt::format("{}: not a valid SentencePiece model: {}", path, err));
    const int64_t n = api_.vocab_size(handle_);
    pieces_.reserve(static_cast<size_t>(n));
    for (int32_t id = 0; id < n; ++id) {
      pieces_.push_back(piece_of(id));
      if (api_.is_special(handle_, id) && !pieces_.back().empty()) specials_.push_back(id);
    }
    std::stable_sort(specials_.begin(), specials_.end(),
                     [&](int32_t a, int32_t b) { return pieces_[a].size() > pieces_[b].size(); });
  }
  ~SentencePieceTokenizer() override { api_.destroy(handle_); }
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int32_t> encode(const std::string& text, bool add_bos) const override {
    std::vector<int32_t> ids;
    if (add_bos && bos_id() >= 0) ids.push_back(bos_id());
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t best_at = std::string::npos;
      int32_t best = -1;
      for (int32_t id : specials_) {  // longest first, so the first hit at a position wins
        size_t at = text.find(pieces_[id], pos);
        if (at < best_at) {
          best_at = at;
          best = id;
        }
      }
      size_t end = best < 0 ? text.size() : best_at;
      if (end > pos) encode_plain(std::string_view(text).substr(pos, end - pos), ids);
      if (best < 0) break;
      ids.push_back(best);
      pos = best_at + pieces_[best].size();
    }
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) {
        throw DataError(fmt::format("{}: cannot decode token id {}: outside [0, {})", path_, id, vocab_size()));
      }
    }
    std::string out(ids.size() * 8 + 16, '\0');
    int64_t n = api_.decode(handle_, ids.data(), ids.size(), out.data(), out.size());
    if (n > static_cast<int64_t>(out.size())) {
      out.resize(static_cast<size_t>(n));
      n = api_.decode(handle_, ids.data(), ids.size(), out.data(), out.size());
    }
    if (n < 0) throw DataError(fmt::format("{}: SentencePiece failed to decode {} ids", path_, ids.size()));
    out.resize(static_cast<size_t>(n));
    return out;
  }

  int32_t bos_id() const override { return api_.bos_id(handle_); }
  int32_t eos_id() const override { return api_.eos_id(handle_); }
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }
  int32_t token_to_id(const std::string& piece) const override {
    return api_.piece_to_id(handle_, piece.data(), piece.size());
  }

 private:
  std::string piece_of(int32_t id) const {
    std::string p(64, '\0');
    int64_t n = api_.id_to_piece(handle_, id, p.data(), p.size());
    if (n > static_cast<int64_t>(p.size())) {
      p.resize(static_cast<size_t>(n));
      n = api_.id_to_piece(handle_, id, p.data(), p.size());
    }
    p.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return p;
  }

  void encode_plain(std::string_view text, std::vector<int32_t>& ids) const {
    const size_t start = ids.size();
    ids.resize(start + text.size() + 8);
    int64_t n = api_.encode(handle_, text.data(), text.size(), ids.data() + start, ids.size() - start);
    if (n > static_cast<int64_t>(ids.size() - start)) {
      ids.resize(start + static_cast<size_t>(n));
      n = api_.encode(handle_, text.data(), text.size(), ids.data() + start, ids.size() - start);
    }
    if (n < 0) throw DataError(fmt::format("{}: SentencePiece failed to encode {} bytes", path_, text.size()));
    ids.resize(start + static_cast<size_t>(n));
  }

  const SpmApi& api_;
  std::string path_;
  LlmsrecSpm* handle_ = nullptr;
  std::vector<std::string> pieces_;
  std::vector<int32_t> specials_;  // control ids, longest piece first
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path) {
  if (!std::filesystem::exists(path)) throw IoError(fmt::format("{}: no such tokenizer.model", path));
  return std::make_unique<SentencePieceTokenizer>(path);
}

std::string sentencepiece_plugin_path() { return spm_api().path; }

}  // namespace llmsrec::models::llama
