// libllmsrec_spm.so: libsentencepiece behind the C ABI of spm_plugin_abi.h.
// Built as its own shared library and dlopen'ed by sentencepiece_tokenizer.cpp
// (see the ABI header for why). Exceptions never cross the boundary.
#include "models/llama/spm_plugin/spm_plugin_abi.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>

struct LlmsrecSpm {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

int64_t copy_out(const std::string& s, char* out, size_t cap) {
  if (out && cap) std::memcpy(out, s.data(), std::min(cap, s.size()));
  return static_cast<int64_t>(s.size());
}

}  // namespace

extern "C" {

uint32_t llmsrec_spm_abi_version(void) { return LLMSREC_SPM_ABI_VERSION; }

LlmsrecSpm* llmsrec_spm_create(const char* model_path, char* err, size_t err_len) {
  try {
    auto* spm = new LlmsrecSpm();
    auto status = spm->processor.Load(model_path);
    if (!status.ok()) {
      if (err && err_len) {
        std::snprintf(err, err_len, "%s", status.ToString().c_str());
      }
      delete spm;
      return nullptr;
    }
    return spm;
  } catch (const std::exception& e) {
    if (err && err_len) std::snprintf(err, err_len, "%s", e.what());
    return nullptr;
  }
}

void llmsrec_spm_destroy(LlmsrecSpm* spm) { delete spm; }

int64_t llmsrec_spm_encode(LlmsrecSpm* spm, const char* text, size_t len, int32_t* out, size_t cap) {
  try {
    std::vector<int> ids;
    if (!spm->processor.Encode(std::string_view(text, len), &ids).ok()) return -1;
    for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
    return static_cast<int64_t>(ids.size());
  } catch (...) {
    return -1;
  }
}

int64_t llmsrec_spm_decode(LlmsrecSpm* spm, const int32_t* ids, size_t n, char* out, size_t cap) {
  try {
    std::vector<int> v(ids, ids + n);
    std::string text;
    if (!spm->processor.Decode(v, &text).ok()) return -1;
    return copy_out(text, out, cap);
  } catch (...) {
    return -1;
  }
}

int64_t llmsrec_spm_id_to_piece(LlmsrecSpm* spm, int32_t id, char* out, size_t cap) {
  if (id < 0 || id >= spm->processor.GetPieceSize()) return -1;
  return copy_out(spm->processor.IdToPiece(id), out, cap);
}

int32_t llmsrec_spm_piece_to_id(LlmsrecSpm* spm, const char* piece, size_t len) {
  std::string p(piece, len);
  int id = spm->processor.PieceToId(p);
  // PieceToId answers unknown pieces with the unk id.
  if (id == spm->processor.unk_id() && spm->processor.IdToPiece(id) != p) return -1;
  return id;
}

int32_t llmsrec_spm_is_special(LlmsrecSpm* spm, int32_t id) {
  if (id < 0 || id >= spm->processor.GetPieceSize()) return 0;
  return spm->processor.IsControl(id) ? 1 : 0;
}

int32_t llmsrec_spm_bos_id(LlmsrecSpm* spm) { return spm->processor.bos_id(); }
int32_t llmsrec_spm_eos_id(LlmsrecSpm* spm) { return spm->processor.eos_id(); }
int64_t llmsrec_spm_vocab_size(LlmsrecSpm* spm) { return spm->processor.GetPieceSize(); }

}  // extern "C"
