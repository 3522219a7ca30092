#include "models/llama/token_decoder.h"

#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "models/llama/byte_level.h"
#include "models/llama/tokenizer_json_fields.h"

namespace llmsrec::models::llama {

namespace {


size_t count_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (!it->is_number_unsigned() || it->get<uint64_t>() > 1024) {
    throw DataError(fmt::format("{}: '{}' must be a small non-negative integer", where, key));
  }
  return it->get<size_t>();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

// "<0x41>" -> 0x41, else -1.
int byte_piece(const std::string& p) {
  if (p.size() != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  int hi = hex(p[3]), lo = hex(p[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

TokenDecoder::TokenDecoder(const nlohmann::json& spec, const std::string& where) { parse(spec, where); }

void TokenDecoder::parse(const nlohmann::json& spec, const std::string& where) {
  if (spec.is_null()) return;
  if (!spec.is_object()) throw DataError(fmt::format("{}: expected an object or null", where));
  const std::string& type = string_field(spec, "type", where);
  if (type == "Sequence") {
    auto it = spec.find("decoders");
    if (it == spec.end() || !it->is_array()) throw DataError(fmt::format("{}: Sequence needs an array 'decoders'", where));
    for (size_t i = 0; i < it->size(); ++i) parse((*it)[i], fmt::format("{}.decoders[{}]", where, i));
    return;
  }
  Step step;
  if (type == "ByteLevel") {
  } else if (type == "Replace") {
    step.kind = Kind::kReplace;
    std::tie(step.from, step.to) = replace_step_strings(spec, where);
  } else if (type == "ByteFallback") {
    step.kind = Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = Kind::kFuse;
  } else if (type == "Strip") {
    step.kind = Kind::kStrip;
    step.from = string_field(spec, "content", where);
    step.start = count_field(spec, "start", where);
    step.stop = count_field(spec, "stop", where);
  } else if (type == "Metaspace") {
    step.kind = Kind::kMetaspace;
    step.from = spec.contains("replacement") ? string_field(spec, "replacement", where) : "\u2581";
    auto scheme = spec.find("prepend_scheme");
    auto legacy = spec.find("add_prefix_space");
    step.prepend = scheme != spec.end() && scheme->is_string() ? scheme->get<std::string>() != "never"
                   : legacy != spec.end() && legacy->is_boolean() ? legacy->get<bool>()
                                                                  : true;
  } else {
    throw DataError(fmt::format(
        "{}: unsupported decoder type '{}' (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)",
        where, type));
  }
  steps_.push_back(std::move(step));
}

std::string TokenDecoder::decode(std::vector<std::string> pieces) const {
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Kind::kByteLevel:
        for (auto& p : pieces) p = byte_level_to_bytes(p);
        break;
      case Kind::kReplace:
        for (auto& p : pieces) replace_all(p, step.from, step.to);
        break;
      case Kind::kByteFallback: {
        // Runs of <0xXX> pieces become their raw bytes (one piece per run).
        std::vector<std::string> out;
        bool in_bytes = false;
        for (auto& p : pieces) {
          int b = byte_piece(p);
          if (b >= 0) {
            if (!in_bytes) out.emplace_back();
            out.back() += static_cast<char>(b);
            in_bytes = true;
          } else {
            out.push_back(std::move(p));
            in_bytes = false;
          }
        }
        pieces.swap(out);
        break;
      }
      case Kind::kFuse: {
        std::string all;
        for (auto& p : pieces) all += p;
        pieces.assign(1, std::move(all));
        break;
      }
      case Kind::kStrip:
        for (auto& p : pieces) {
          size_t b = 0, e = p.size();
          for (size_t k = 0; k < step.start && p.compare(b, step.from.size(), step.from) == 0 && !step.from.empty(); ++k)
            b += step.from.size();
          for (size_t k = 0; k < step.stop && e >= b + step.from.size() && !step.from.empty() &&
                             p.compare(e - step.from.size(), step.from.size(), step.from) == 0;
               ++k)
            e -= step.from.size();
          p = p.substr(b, e - b);
        }
        break;
      case Kind::kMetaspace:
        for (size_t i = 0; i < pieces.size(); ++i) {
          replace_all(pieces[i], step.from, " ");
          if (i == 0 && step.prepend && !pieces[i].empty() && pieces[i][0] == ' ') pieces[i].erase(0, 1);
        }
        break;
    }
  }
  std::string out;
  for (auto& p : pieces) out += p;
  return out;
}

}  // namespace llmsrec::models::llama
