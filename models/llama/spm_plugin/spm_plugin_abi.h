// The C ABI of libllmsrec_spm.so, the plugin that wraps libsentencepiece.
//
// Why a plugin: libsentencepiece carries protobuf-lite symbols that interpose
// the libprotobuf libtorch uses; linking both into one executable crashes in
// static initialisation. The plugin is dlopen'ed with RTLD_LOCAL |
// RTLD_DEEPBIND, so sentencepiece and its protobuf resolve to each other and
// never leak into (or bind to) the process's global symbols. Only plain C
// types cross this boundary.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLMSREC_SPM_ABI_VERSION 1u

typedef struct LlmsrecSpm LlmsrecSpm;

uint32_t llmsrec_spm_abi_version(void);
// Loads a tokenizer.model; null on failure with a message in err (NUL-terminated).
LlmsrecSpm* llmsrec_spm_create(const char* model_path, char* err, size_t err_len);
void llmsrec_spm_destroy(LlmsrecSpm* spm);
// Writes up to `cap` ids to `out`; returns how many ids the text has (call again
// with a larger buffer if that exceeds cap), or -1 on failure.
int64_t llmsrec_spm_encode(LlmsrecSpm* spm, const char* text, size_t len, int32_t* out, size_t cap);
// Writes up to `cap` bytes of the text to `out`; returns its full length, or -1.
int64_t llmsrec_spm_decode(LlmsrecSpm* spm, const int32_t* ids, size_t n, char* out, size_t cap);
// Writes up to `cap` bytes of the piece of `id`; returns its full length, or -1.
int64_t llmsrec_spm_id_to_piece(LlmsrecSpm* spm, int32_t id, char* out, size_t cap);
// -1 when the piece is not in the vocabulary.
int32_t llmsrec_spm_piece_to_id(LlmsrecSpm* spm, const char* piece, size_t len);
// 1 for control pieces (<s>, </s>): they are matched in text before encoding.
int32_t llmsrec_spm_is_special(LlmsrecSpm* spm, int32_t id);
int32_t llmsrec_spm_bos_id(LlmsrecSpm* spm);
int32_t llmsrec_spm_eos_id(LlmsrecSpm* spm);
int64_t llmsrec_spm_vocab_size(LlmsrecSpm* spm);

#ifdef __cplusplus
}
#endif
