#include "models/llama/hf_writer.h"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checkpoint/safetensors.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "models/llama/tensor_names.h"

namespace llmsrec::models::llama {

void write_hf_llama(const std::string& dir, const LlamaConfig& cfg,
                    const std::map<std::string, std::vector<float>>& tensors) {
  const auto specs = llama_tensor_specs(cfg);
  LLMSREC_ASSERT(specs.size() == tensors.size(), fmt::format("write_hf_llama: {} tensors given, config needs {}",
                                                             tensors.size(), specs.size()));
  checkpoint::SafetensorsWriter writer;
  for (const auto& spec : specs) {
    auto it = tensors.find(spec.name);
    LLMSREC_ASSERT(it != tensors.end(), "write_hf_llama: missing tensor " + spec.name);
    writer.add_f32(spec.name, spec.shape, it->second);
  }
  std::filesystem::create_directories(dir);
  writer.write((std::filesystem::path(dir) / "model.safetensors").string());
  core::write_file_atomic((std::filesystem::path(dir) / "config.json").string(),
                          llama_config_to_json(cfg).dump(2) + "\n");
}

}  // namespace llmsrec::models::llama
