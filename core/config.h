// Typed, strict configuration (STYLE.md "Config").
//
// A config section is a plain struct with in-class defaults that lists its
// fields once, in visit(); the same list drives reading (strict: unknown keys
// are errors naming key path and file:line), writing the resolved YAML, and
// `--set a.b.c=value` overrides. yaml-cpp lives only in config_yaml.cpp.
//
//   struct DataConfig : core::ConfigSection {
//     int64_t k_core = 5;  // iterative k-core threshold; 0 = none
//     void visit(core::ConfigVisitor& v) override {
//       v.field("k_core", k_core, "iterative k-core threshold; 0 = none");
//     }
//   };
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace llmsrec::core {

class ConfigVisitor;

struct ConfigSection {
  virtual ~ConfigSection() = default;
  virtual void visit(ConfigVisitor& v) = 0;
  // Cross-field checks after loading; throw ConfigError naming the key path.
  // `path` is this section's dotted path ("" for the root).
  virtual void validate(const std::string& path) const {}
};

class ConfigVisitor {
 public:
  virtual ~ConfigVisitor() = default;
  virtual void field(const char* key, bool& value, const char* doc) = 0;
  virtual void field(const char* key, int64_t& value, const char* doc) = 0;
  virtual void field(const char* key, double& value, const char* doc) = 0;
  virtual void field(const char* key, std::string& value, const char* doc) = 0;
  virtual void field(const char* key, std::vector<std::string>& value, const char* doc) = 0;
  virtual void field(const char* key, std::vector<int64_t>& value, const char* doc) = 0;
  // A string restricted to `allowed` values.
  virtual void choice(const char* key, std::string& value, std::initializer_list<const char*> allowed,
                      const char* doc) = 0;
  virtual void section(const char* key, ConfigSection& sub, const char* doc) = 0;

  // Narrower numeric types go through the wide ones (range-checked on read).
  void field(const char* key, int& value, const char* doc);
  void field(const char* key, float& value, const char* doc);

 protected:
  // Dotted path of `key` inside the section being visited, for error messages.
  virtual std::string path_of(const char* key) const = 0;
};

// Reads `file` (may be empty: defaults only), applies `overrides` ("a.b.c=value",
// value parsed as a YAML scalar or flow sequence), and fills `root`. Throws
// ConfigError naming the key path and file:line (or the --set argument).
void load_config(ConfigSection& root, const std::string& file, const std::vector<std::string>& overrides);

// The resolved config as YAML; with `with_docs`, each field's doc as a comment.
std::string dump_config(ConfigSection& root, bool with_docs = false);

// Stable 64-bit hash of the resolved YAML (ranks compare it at start-up).
uint64_t config_hash(ConfigSection& root);

}  // namespace llmsrec::core
