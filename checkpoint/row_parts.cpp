#include "checkpoint/row_parts.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checkpoint/h5.h"
#include "core/error.h"

namespace llmsrec::checkpoint {

void copy_row_parts(h5::Group& out, const std::string& name, const std::vector<h5::File>& parts, uint64_t begin,
                    uint64_t end, uint64_t block_rows) {
  const h5::DatasetInfo oi = out.info(name);
  if (oi.dims.size() != 2 || end > oi.dims[0] || begin > end || block_rows == 0) {
    throw IoError(fmt::format("{}:{}: cannot join rows [{}, {}) into a dataset of shape [{}]", out.file(), name, begin,
                              end, fmt::join(oi.dims, ", ")));
  }
  const uint64_t cols = oi.dims[1];
  struct Piece {
    const h5::File* file;
    uint64_t row_begin, rows;
  };
  std::vector<Piece> pieces;
  for (const h5::File& p : parts) {
    const h5::DatasetInfo pi = p.info(name);
    if (pi.dims.size() != 2 || pi.dims[1] != cols) {
      throw IoError(fmt::format("part '{}': {} has shape [{}], expected [*, {}]", p.file(), name,
                                fmt::join(pi.dims, ", "), cols));
    }
    const int64_t row_begin = p.open_object(name).attr_int(kRowBeginAttr);
    if (pi.dims[0] > 0) pieces.push_back({&p, static_cast<uint64_t>(row_begin), pi.dims[0]});
  }
  std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.row_begin < b.row_begin; });
  uint64_t expect = begin;
  for (const Piece& pc : pieces) {
    if (pc.row_begin != expect) {
      throw IoError(fmt::format("part '{}': {} starts at row {}, expected {} (parts from another run or world size?)",
                                pc.file->file(), name, pc.row_begin, expect));
    }
    expect += pc.rows;
  }
  if (expect != end) {
    throw IoError(fmt::format("{}: the parts cover rows [{}, {}) of {}, expected [{}, {})", out.file(), begin, expect,
                              name, begin, end));
  }
  std::vector<float> buf;
  for (uint64_t c0 = begin / block_rows * block_rows; c0 < end; c0 += block_rows) {
    const uint64_t lo = std::max(c0, begin), hi = std::min(c0 + block_rows, end);
    buf.assign((hi - lo) * cols, 0.0f);
    for (const Piece& pc : pieces) {
      const uint64_t a = std::max(lo, pc.row_begin), b = std::min(hi, pc.row_begin + pc.rows);
      if (a >= b) continue;
      std::vector<float> rows = pc.file->read_rows<float>(name, a - pc.row_begin, b - a);
      std::copy(rows.begin(), rows.end(), buf.begin() + static_cast<std::ptrdiff_t>((a - lo) * cols));
    }
    out.write_rows<float>(name, lo, buf.data(), hi - lo);
  }
}

}  // namespace llmsrec::checkpoint
