// Deterministic random numbers, identical on every platform and world size.
// Streams are keyed by (seed, purpose, a, b), e.g. (seed, kNegatives, epoch,
// user), never by rank, so a result does not depend on how work is sharded.
//
//   core::Rng rng(core::stream_seed(seed, core::Stream::kEvalNegatives, user));
//   int64_t j = rng.uniform(n);   // in [0, n), unbiased
#pragma once

#include <cstdint>
#include <cmath>

namespace llmsrec::core {

// Purposes of random streams; values are part of the on-disk reproducibility contract.
enum class Stream : uint64_t {
  kSynthetic = 1,
  kEvalNegatives = 2,
  kTeacherSampling = 3,
  kTrainNegatives = 4,
  kShuffle = 5,
  kInit = 6,
  kDropout = 7,
  kValidUsers = 8,
};

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint64_t stream_seed(uint64_t seed, Stream purpose, uint64_t a = 0, uint64_t b = 0) {
  uint64_t x = seed;
  uint64_t h = splitmix64(x);
  x = h ^ static_cast<uint64_t>(purpose);
  h = splitmix64(x);
  x = h ^ a;
  h = splitmix64(x);
  x = h ^ b;
  return splitmix64(x);
}

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) without modulo bias (Lemire). n must be > 0.
  uint64_t uniform(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    auto low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  // Uniform in [0, 1).
  double uniform01() { return (next() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller, no cached pair so state stays simple).
  double normal() {
    double u1 = uniform01(), u2 = uniform01();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // The full state, for checkpoints.
  const uint64_t* state() const { return s_; }
  void set_state(const uint64_t* s) { for (int i = 0; i < 4; ++i) s_[i] = s[i]; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace llmsrec::core
