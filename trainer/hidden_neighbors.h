// Nearest items in a hidden.h5 (`llmsrec inspect neighbors`): cosine similarity
// of one item's row against every other item, in the score space
// (items/vector) or the LLM's hidden space (items/hidden), with titles from
// the dataset.h5 the file was made from.
//
//   trainer::NeighborQuery q;
//   q.hidden = "runs/demo/hidden.h5"; q.item = 42; q.k = 10;
//   nlohmann::json r = trainer::nearest_items(q);   // r["neighbors"][0]["title"]
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace llmsrec::trainer {

struct NeighborQuery {
  std::string hidden;            // a hidden.h5 written by llmsrec embed
  int64_t item = 0;              // item id, 1..I
  int64_t k = 10;                // neighbours to return
  std::string space = "vector";  // vector (f_item(h_i)) | hidden (h_i)
  std::string dataset;           // dataset.h5 for titles; "" = the file's `dataset` attribute
};

// {"file", "dataset", "space", "item", "title", "k", "neighbors": [{"rank", "item",
// "cosine", "title"}...]}: sorted by cosine, descending (ties: smaller id first);
// excludes the item itself, row 0 (padding) and all-zero rows. Throws ConfigError
// for an item id out of range or an unknown space, IoError/DataError naming the
// file when it is not a hidden.h5 or the dataset does not match it.
nlohmann::json nearest_items(const NeighborQuery& query);

}  // namespace llmsrec::trainer
