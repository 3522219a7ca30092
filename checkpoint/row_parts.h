// Joins per-rank "part" files into one HDF5 file without parallel HDF5: each
// rank streams its block of rows into its own part file (RowStreamWriter),
// with the block's first global row in the dataset attribute `row_begin`; then
// one process copies the parts into the final datasets, chunk by chunk.
//
//   out.root().create_dataset<float>("items/hidden", {n, d}, {.chunk_rows = c});
//   checkpoint::copy_row_parts(out.root(), "items/hidden", parts, 1, n, c);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmsrec::checkpoint {

namespace h5 {
class Group;
class File;
}  // namespace h5

// The attribute naming a part dataset's first row in the joined dataset.
inline constexpr const char* kRowBeginAttr = "row_begin";

// Copies dataset `name` of every part into the existing float32 dataset `name`
// of `out`, at the part's row_begin, in blocks of `block_rows` rows aligned to
// multiples of `block_rows` (pass the output's chunk rows: whole-chunk writes).
// The parts must tile rows [begin, end) exactly; a gap, an overlap or a column
// count that differs is an IoError naming the part file.
void copy_row_parts(h5::Group& out, const std::string& name, const std::vector<h5::File>& parts, uint64_t begin,
                    uint64_t end, uint64_t block_rows);

}  // namespace llmsrec::checkpoint
