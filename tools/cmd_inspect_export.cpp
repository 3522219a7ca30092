// `llmsrec inspect export FILE DATASET --npy OUT.npy`: one numeric dataset of any
// llmsrec HDF5 file -> a NumPy .npy (for numpy / faiss users).
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "checkpoint/npy_export.h"
#include "tools/command.h"

namespace {

class InspectExportCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("file", file_, "an HDF5 file written by llmsrec (hidden.h5, ckpt-*.h5, dataset.h5, ...)")->required();
    app.add_option("dataset", dataset_, "dataset path inside the file, e.g. items/vector")->required();
    app.add_option("--npy", out_, "output .npy file (written atomically)")->required();
  }
  nlohmann::json run() override { return llmsrec::checkpoint::export_npy(file_, dataset_, out_); }
  void print_human(const nlohmann::json& s) override {
    std::string shape;
    for (const auto& d : s["shape"]) shape += (shape.empty() ? "" : ", ") + std::to_string(d.get<uint64_t>());
    std::cout << fmt::format("wrote {} ({} [{}], {} bytes) from {}:{}\n", s["output"].get<std::string>(),
                             s["dtype"].get<std::string>(), shape, s["bytes"].get<uint64_t>(),
                             s["file"].get<std::string>(), s["dataset"].get<std::string>());
  }

 private:
  std::string file_, dataset_, out_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(InspectExportCommand, "inspect export",
                         "one numeric dataset of an llmsrec HDF5 file -> NumPy .npy (for numpy / faiss)")
