// Track names straight from a Matroska file's Tracks header. matroskademux gives a video
// track's name as its title only when the track has a language or the file ends in a Tags
// element; a part cut off by a crash has neither, so its pictures would lose their roles.
// Reads only the first bytes of the file, bounded, and trusts nothing in them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace consult::media::composition {

// TrackNumber → Name for every TrackEntry with both, from the file's first `limit` bytes.
// Anything malformed ends the walk with what was found so far.
std::map<std::uint64_t, std::string> matroska_track_names(const std::string& path, std::size_t limit = 1 << 20);
std::map<std::uint64_t, std::string> matroska_track_names_in(std::string_view bytes);

// The Matroska track number in a matroskademux stream id ("<upstream>/<number>:<uid>").
std::uint64_t track_number_from_stream_id(std::string_view stream_id);

}  // namespace consult::media::composition
