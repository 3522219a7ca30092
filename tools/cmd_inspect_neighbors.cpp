// `llmsrec inspect neighbors hidden.h5 --item ID -k 10`: nearest items by cosine, with titles.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/command.h"
#include "trainer/hidden_neighbors.h"

namespace {

class InspectNeighborsCommand : public llmsrec::tools::Command {
 public:
  void add_options(CLI::App& app) override {
    app.add_option("file", q_.hidden, "hidden.h5 written by llmsrec embed")->required();
    app.add_option("--item", q_.item, "item id (1..number of items)")->required();
    app.add_option("-k", q_.k, "number of neighbours")->capture_default_str();
    app.add_option("--space", q_.space, "vector: f_item(h_i), the score space; hidden: h_i, the LLM's hidden state")
        ->check(CLI::IsMember({"vector", "hidden"}))
        ->capture_default_str();
    app.add_option("--dataset", q_.dataset, "dataset.h5 for titles (default: the one named in the file)");
  }
  nlohmann::json run() override { return llmsrec::trainer::nearest_items(q_); }
  void print_human(const nlohmann::json& r) override {
    std::cout << fmt::format("{} nearest items to {} \"{}\" by cosine in items/{} of {}\n", r["k"].get<int64_t>(),
                             r["item"].get<int64_t>(), r["title"].get<std::string>(), r["space"].get<std::string>(),
                             r["file"].get<std::string>());
    std::cout << fmt::format("{:>4} {:>8} {:>9}  {}\n", "rank", "item", "cosine", "title");
    for (const auto& n : r["neighbors"]) {
      std::cout << fmt::format("{:>4} {:>8} {:>9.5f}  {}\n", n["rank"].get<int64_t>(), n["item"].get<int64_t>(),
                               n["cosine"].get<double>(), n["title"].get<std::string>());
    }
  }

 private:
  llmsrec::trainer::NeighborQuery q_;
};

}  // namespace

LLMSREC_REGISTER_COMMAND(InspectNeighborsCommand, "inspect neighbors",
                         "nearest items of one item in a hidden.h5 by cosine, with their titles")
