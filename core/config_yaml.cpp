// The only translation unit that sees yaml-cpp: strict reading, overrides, dumping.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"

namespace llmsrec::core {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// Where a value came from, for error messages: "file.yaml:12" or "--set a.b=c".
struct Origins {
  std::string file;
  std::map<std::string, std::string> overrides;  // dotted path -> "--set ..." text

  std::string where(const std::string& path, const YAML::Node& node) const {
    for (auto it = overrides.begin(); it != overrides.end(); ++it) {
      const std::string& p = it->first;
      if (p == path || (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '.') ||
          (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '.')) {
        return it->second;
      }
    }
    if (node.IsDefined() && node.Mark().line >= 0 && !file.empty()) {
      return fmt::format("{}:{}", file, node.Mark().line + 1);
    }
    return file.empty() ? std::string("config") : file;
  }
};

class Reader final : public ConfigVisitor {
 public:
  // `node` is the mapping of this section, or absent (has_map = false).
  Reader(YAML::Node node, bool has_map, std::string prefix, const Origins& origins)
      : node_(std::move(node)), has_map_(has_map), prefix_(std::move(prefix)), origins_(origins) {}

  void field(const char* key, bool& v, const char* doc) override { read(key, v, "a boolean (true/false)"); }
  void field(const char* key, int64_t& v, const char* doc) override { read(key, v, "an integer"); }
  void field(const char* key, double& v, const char* doc) override { read(key, v, "a number"); }
  void field(const char* key, std::string& v, const char* doc) override {
    auto n = child(key);
    if (!n) return;
    if (n->IsNull()) { v.clear(); return; }
    if (!n->IsScalar()) fail(key, *n, "expected a string");
    v = n->Scalar();
  }
  void field(const char* key, std::vector<std::string>& v, const char* doc) override {
    read_list(key, v, "a list of strings");
  }
  void field(const char* key, std::vector<int64_t>& v, const char* doc) override {
    read_list(key, v, "a list of integers");
  }
  void choice(const char* key, std::string& v, std::initializer_list<const char*> allowed,
              const char* doc) override {
    field(key, v, doc);
    for (const char* a : allowed) if (v == a) return;
    std::string options;
    for (const char* a : allowed) options += (options.empty() ? "" : ", ") + std::string(a);
    auto n = child(key);
    fail(key, n ? *n : YAML::Node(), fmt::format("'{}' is not one of: {}", v, options));
  }
  void section(const char* key, ConfigSection& sub, const char* doc) override {
    auto n = child(key);
    if (n && !n->IsMap() && !n->IsNull()) fail(key, *n, "expected a mapping of keys");
    const bool is_map = n && n->IsMap();
    Reader inner(is_map ? *n : YAML::Node(), is_map, join_path(prefix_, key), origins_);
    sub.visit(inner);
    inner.reject_unknown(sub);
  }

  // Every key present in this mapping must have been visited.
  void reject_unknown(ConfigSection& section) {
    if (!has_map_) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const std::string k = it->first.Scalar();
      if (seen_.count(k)) continue;
      std::string best;
      size_t best_d = 3;
      for (const auto& known : seen_all_) {
        size_t d = edit_distance(k, known);
        if (d < best_d) { best_d = d; best = known; }
      }
      std::string known_list;
      for (const auto& kk : seen_all_) known_list += (known_list.empty() ? "" : ", ") + kk;
      std::string hint = best.empty() ? "" : fmt::format(" (did you mean '{}'?)", join_path(prefix_, best));
      throw ConfigError(fmt::format("{}: unknown config key '{}'{}; known keys{}: {}",
                                    origins_.where(join_path(prefix_, k), it->first), join_path(prefix_, k), hint,
                                    prefix_.empty() ? "" : " in '" + prefix_ + "'", known_list));
    }
  }

 protected:
  std::string path_of(const char* key) const override { return join_path(prefix_, key); }

 private:
  // The value under `key`, or nullopt when this mapping has no such key.
  std::optional<YAML::Node> child(const char* key) {
    seen_all_.insert(key);
    if (!has_map_) return std::nullopt;
    YAML::Node n = node_[key];
    if (!n.IsDefined()) return std::nullopt;
    seen_.insert(key);
    return n;
  }

  [[noreturn]] void fail(const char* key, const YAML::Node& n, const std::string& what) const {
    throw ConfigError(fmt::format("{}: config key '{}': {}", origins_.where(path_of(key), n), path_of(key), what));
  }

  template <typename T>
  void read(const char* key, T& v, const char* expected) {
    auto n = child(key);
    if (!n) return;
    if (!n->IsScalar()) fail(key, *n, fmt::format("expected {}", expected));
    try {
      v = n->as<T>();
    } catch (const YAML::Exception&) {
      fail(key, *n, fmt::format("expected {}, found '{}'", expected, n->Scalar()));
    }
  }

  template <typename T>
  void read_list(const char* key, std::vector<T>& v, const char* expected) {
    auto n = child(key);
    if (!n) return;
    if (n->IsNull()) { v.clear(); return; }
    if (!n->IsSequence()) fail(key, *n, fmt::format("expected {}", expected));
    std::vector<T> out;
    for (const auto& item : *n) {
      try {
        out.push_back(item.as<T>());
      } catch (const YAML::Exception&) {
        fail(key, item, fmt::format("expected {}, found '{}'", expected, item.IsScalar() ? item.Scalar() : "?"));
      }
    }
    v = std::move(out);
  }

  YAML::Node node_;
  bool has_map_;
  std::string prefix_;
  const Origins& origins_;
  std::set<std::string> seen_;      // keys visited and present
  std::set<std::string> seen_all_;  // keys visited (known)
};

std::string format_double(double d) { return fmt::format("{}", d); }

class Writer final : public ConfigVisitor {
 public:
  Writer(YAML::Emitter& out, bool docs, std::string prefix = "") : out_(out), docs_(docs), prefix_(std::move(prefix)) {}
  void field(const char* key, bool& v, const char* doc) override { put(key, v ? "true" : "false", doc); }
  void field(const char* key, int64_t& v, const char* doc) override { put(key, std::to_string(v), doc); }
  void field(const char* key, double& v, const char* doc) override { put(key, format_double(v), doc); }
  void field(const char* key, std::string& v, const char* doc) override {
    out_ << YAML::Key << key << YAML::Value;
    if (v.empty()) out_ << YAML::DoubleQuoted << "";
    else out_ << v;
    comment(doc);
  }
  void field(const char* key, std::vector<std::string>& v, const char* doc) override {
    out_ << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out_ << s;
    out_ << YAML::EndSeq;
    comment(doc);
  }
  void field(const char* key, std::vector<int64_t>& v, const char* doc) override {
    out_ << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (auto x : v) out_ << x;
    out_ << YAML::EndSeq;
    comment(doc);
  }
  void choice(const char* key, std::string& v, std::initializer_list<const char*> allowed, const char* doc) override {
    std::string options;
    for (const char* a : allowed) options += (options.empty() ? "" : "|") + std::string(a);
    std::string full = std::string(doc) + " [" + options + "]";
    field(key, v, full.c_str());
  }
  void section(const char* key, ConfigSection& sub, const char* doc) override {
    if (docs_ && doc && *doc) out_ << YAML::Newline << YAML::Comment(doc);
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    Writer inner(out_, docs_, join_path(prefix_, key));
    sub.visit(inner);
    out_ << YAML::EndMap;
  }

 protected:
  std::string path_of(const char* key) const override { return join_path(prefix_, key); }

 private:
  void put(const char* key, const std::string& scalar, const char* doc) {
    out_ << YAML::Key << key << YAML::Value << scalar;
    comment(doc);
  }
  void comment(const char* doc) {
    if (docs_ && doc && *doc) out_ << YAML::Comment(doc);
  }
  YAML::Emitter& out_;
  bool docs_;
  std::string prefix_;
};

void validate_tree(ConfigSection& root);

}  // namespace

void load_config(ConfigSection& root, const std::string& file, const std::vector<std::string>& overrides) {
  Origins origins;
  origins.file = file;
  YAML::Node tree;
  if (!file.empty()) {
    std::ifstream probe(file);
    if (!probe) throw ConfigError(fmt::format("config file '{}' cannot be opened", file));
    try {
      tree = YAML::LoadFile(file);
    } catch (const YAML::ParserException& e) {
      throw ConfigError(fmt::format("{}:{}:{}: YAML syntax error: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    if (tree.IsNull()) tree = YAML::Node(YAML::NodeType::Map);
    if (!tree.IsMap()) throw ConfigError(fmt::format("{}: the config must be a mapping of sections", file));
  } else {
    tree = YAML::Node(YAML::NodeType::Map);
  }

  for (const auto& ov : overrides) {
    auto eq = ov.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError(fmt::format("--set '{}': expected KEY.PATH=VALUE", ov));
    }
    const std::string path = ov.substr(0, eq);
    const std::string text = ov.substr(eq + 1);
    YAML::Node value;
    if (text.empty()) {
      value = YAML::Node(std::string());
    } else {
      try {
        value = YAML::Load(text);
      } catch (const YAML::Exception&) {
        value = YAML::Node(text);
      }
      if (value.IsMap()) value = YAML::Node(text);  // "a: b" is meant as a string
    }
    // Walk/create the mapping chain. yaml-cpp nodes are handles, so assigning
    // into `cur` writes into the tree; reset() re-points the handle instead.
    YAML::Node cur = tree;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (key.empty()) throw ConfigError(fmt::format("--set '{}': empty key in path", ov));
      if (dot == std::string::npos) {
        cur[key] = value;
        break;
      }
      YAML::Node next = cur[key];
      if (!next.IsDefined() || next.IsNull()) {
        cur[key] = YAML::Node(YAML::NodeType::Map);
        next = cur[key];
      } else if (!next.IsMap()) {
        throw ConfigError(fmt::format("--set '{}': '{}' is a value, not a section", ov, path.substr(0, dot)));
      }
      cur.reset(next);
      start = dot + 1;
    }
    origins.overrides[path] = "--set " + ov;
  }

  Reader reader(tree, true, "", origins);
  root.visit(reader);
  reader.reject_unknown(root);
  validate_tree(root);
}

namespace {
// Runs validate() on the root and every nested section, with their paths.
class Validator final : public ConfigVisitor {
 public:
  explicit Validator(std::string prefix) : prefix_(std::move(prefix)) {}
  void field(const char*, bool&, const char*) override {}
  void field(const char*, int64_t&, const char*) override {}
  void field(const char*, double&, const char*) override {}
  void field(const char*, std::string&, const char*) override {}
  void field(const char*, std::vector<std::string>&, const char*) override {}
  void field(const char*, std::vector<int64_t>&, const char*) override {}
  void choice(const char*, std::string&, std::initializer_list<const char*>, const char*) override {}
  void section(const char* key, ConfigSection& sub, const char*) override {
    std::string path = join_path(prefix_, key);
    Validator inner(path);
    sub.visit(inner);
    sub.validate(path);
  }

 protected:
  std::string path_of(const char* key) const override { return join_path(prefix_, key); }

 private:
  std::string prefix_;
};

void validate_tree(ConfigSection& root) {
  Validator v("");
  root.visit(v);
  root.validate("");
}
}  // namespace

std::string dump_config(ConfigSection& root, bool with_docs) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Writer writer(out, with_docs);
  root.visit(writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

uint64_t config_hash(ConfigSection& root) {
  const std::string text = dump_config(root, false);
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : text) { h ^= c; h *= 1099511628211ull; }
  return h;
}

}  // namespace llmsrec::core
