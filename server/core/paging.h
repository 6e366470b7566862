// Paging of the lists the API returns. Every list comes a page at a time so
// that a reply stays far below gRPC's message limit however long the list
// grows: at most page_size items and about kListPageBytes. A page token is
// opaque to callers; inside it is the key of the page's last item (an id,
// a subscriber id), and the next page is read from the store after that
// key (keyset paging: no offset, no state kept between calls). Stateless
// helpers; thread-safe.
#ifndef HERALD_SERVER_CORE_PAGING_H_
#define HERALD_SERVER_CORE_PAGING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace herald {

// Which page of a list to read. page_size 0 means the list's default;
// page_token is what the previous page returned as next_page_token ("" for
// the first page).
struct PageRequest {
  int page_size = 0;
  std::string page_token;
};

// One page of a list, and the token of the next ("" after the last).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

inline constexpr int kDefaultListPageSize = 500;
inline constexpr int kMaxPageSize = 1000;
inline constexpr size_t kListPageBytes = 512 * 1024;

// `requested`, or `default_size` for 0. InvalidArgument naming page_size
// when it is negative or above kMaxPageSize.
absl::StatusOr<int> CheckedPageSize(int requested, int default_size);

// The InvalidArgument error for a page_token this server did not return.
absl::Status BadPageToken();

// A request for one page of a list ordered by a single key, checked: at
// most `size` items that come after the item keyed `after` ("" for the
// first page).
struct KeysetPage {
  int size = 0;
  std::string after;

  // `after` as an id (0 for the first page); BadPageToken when it is not
  // a non-negative number.
  absl::StatusOr<int64_t> AfterId() const;
};

// Checks `request` (CheckedPageSize, BadPageToken) and decodes its token.
absl::StatusOr<KeysetPage> OpenKeysetPage(
    const PageRequest& request, int default_size = kDefaultListPageSize);

// The token for the page after the item keyed `key`.
std::string KeysetPageToken(absl::string_view key);

// Keeps the first items of `rows` that fit in `max_bytes` (at least one).
// True when it dropped any.
template <typename T>
bool FitBytes(std::vector<T>& rows, size_t max_bytes) {
  size_t bytes = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    bytes += rows[i].ByteSizeLong();
    if (i > 0 && bytes > max_bytes) {
      rows.resize(i);
      return true;
    }
  }
  return false;
}

// Makes a page of `rows`, which were read with one more than `page.size`
// to learn whether any follow: keeps at most page.size of them and about
// `max_bytes`, and sets the token of the next page from the last one kept
// (`key_of(item)`: its key, as text).
// The page key of a row keyed by its id.
template <typename T>
std::string IdKey(const T& row) {
  return absl::StrCat(row.id());
}

template <typename T, typename KeyOf>
Page<T> ClosePage(std::vector<T> rows, const KeysetPage& page, KeyOf key_of,
                  size_t max_bytes = kListPageBytes) {
  Page<T> out;
  bool more = rows.size() > static_cast<size_t>(page.size);
  if (more) rows.resize(page.size);
  more |= FitBytes(rows, max_bytes);
  if (more && !rows.empty()) {
    out.next_page_token = KeysetPageToken(key_of(rows.back()));
  }
  out.items = std::move(rows);
  return out;
}

// One page of a list that is worked out whole (affected customers, amends)
// rather than read a page at a time: the items of `rows` in the order of
// their `key_of` (unique keys) that come after the page token's key.
template <typename T, typename KeyOf>
absl::StatusOr<Page<T>> SlicePage(std::vector<T> rows,
                                  const PageRequest& request, KeyOf key_of) {
  absl::StatusOr<KeysetPage> page = OpenKeysetPage(request);
  if (!page.ok()) return page.status();
  std::sort(rows.begin(), rows.end(),
            [&](const T& a, const T& b) { return key_of(a) < key_of(b); });
  auto first = rows.begin();
  if (!page->after.empty()) {
    first = std::upper_bound(rows.begin(), rows.end(), page->after,
                             [&](const std::string& key, const T& item) {
                               return key < key_of(item);
                             });
  }
  const size_t from = static_cast<size_t>(first - rows.begin());
  const size_t to = std::min(rows.size(), from + page->size + 1);
  std::vector<T> taken(std::make_move_iterator(rows.begin() + from),
                       std::make_move_iterator(rows.begin() + to));
  return ClosePage(std::move(taken), *page, key_of);
}

}  // namespace herald

#endif  // HERALD_SERVER_CORE_PAGING_H_
