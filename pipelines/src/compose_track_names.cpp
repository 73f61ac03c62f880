#include "compose_track_names.hpp"

#include <charconv>
#include <fstream>
#include <optional>
#include <vector>

namespace consult::media::composition {

namespace {

constexpr std::uint64_t kEbmlHeader = 0x1A45DFA3, kSegment = 0x18538067, kTracks = 0x1654AE6B,
                        kTrackEntry = 0xAE, kTrackNumber = 0xD7, kName = 0x536E, kCluster = 0x1F43B675;
constexpr std::uint64_t kUnknownSize = ~std::uint64_t(0);

// An EBML reader over a byte range; every read is checked against the range's end.
struct Reader {
    std::string_view bytes;
    std::size_t pos = 0;

    // A variable-length integer of 1..8 bytes; `keep_marker` for element ids.
    std::optional<std::uint64_t> vint(bool keep_marker) {
        if (pos >= bytes.size()) return std::nullopt;
        const auto first = static_cast<unsigned char>(bytes[pos]);
        int length = 1;
        while (length <= 8 && !(first & (0x80 >> (length - 1)))) ++length;
        if (length > 8 || (keep_marker && length > 4) || pos + length > bytes.size()) return std::nullopt;
        std::uint64_t value = keep_marker ? first : first & (0xFF >> length);
        bool all_ones = value == (0xFFu >> length);
        for (int i = 1; i < length; ++i) {
            const auto b = static_cast<unsigned char>(bytes[pos + i]);
            all_ones = all_ones && b == 0xFF;
            value = (value << 8) | b;
        }
        pos += length;
        if (!keep_marker && all_ones) return kUnknownSize;
        return value;
    }

    struct Element {
        std::uint64_t id;
        std::size_t start, end;   // the payload; end clipped to what was read
        bool unknown_size;
    };

    std::optional<Element> element() {
        auto id = vint(true);
        if (!id) return std::nullopt;
        auto size = vint(false);
        if (!size) return std::nullopt;
        const bool unknown = *size == kUnknownSize;
        const std::size_t left = bytes.size() - pos;
        const std::size_t end = unknown || *size > left ? bytes.size() : pos + std::size_t(*size);
        return Element{*id, pos, end, unknown};
    }
};

std::uint64_t read_uint(std::string_view b) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < b.size() && i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return v;
}

void read_track_entry(std::string_view entry, std::map<std::uint64_t, std::string>& out) {
    Reader r{entry};
    std::uint64_t number = 0;
    std::string name;
    while (auto e = r.element()) {
        const auto payload = entry.substr(e->start, e->end - e->start);
        if (e->id == kTrackNumber) number = read_uint(payload);
        else if (e->id == kName) name.assign(payload.substr(0, payload.find('\0')));
        r.pos = e->end;
    }
    if (number && !name.empty()) out[number] = name;
}

}  // namespace

std::map<std::uint64_t, std::string> matroska_track_names_in(std::string_view bytes) {
    std::map<std::uint64_t, std::string> out;
    Reader top{bytes};
    auto header = top.element();
    if (!header || header->id != kEbmlHeader || header->unknown_size) return out;
    top.pos = header->end;
    auto segment = top.element();
    if (!segment || segment->id != kSegment) return out;
    Reader seg{bytes.substr(0, segment->end), segment->start};
    while (auto e = seg.element()) {
        if (e->id == kCluster) break;   // the tracks come before the first cluster
        if (e->id == kTracks) {
            Reader tracks{bytes.substr(0, e->end), e->start};
            while (auto t = tracks.element()) {
                if (t->id == kTrackEntry) read_track_entry(bytes.substr(t->start, t->end - t->start), out);
                if (t->unknown_size) break;
                tracks.pos = t->end;
            }
            break;
        }
        if (e->unknown_size) break;
        seg.pos = e->end;
    }
    return out;
}

std::map<std::uint64_t, std::string> matroska_track_names(const std::string& path, std::size_t limit) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::vector<char> buf(limit);
    in.read(buf.data(), std::streamsize(buf.size()));
    return matroska_track_names_in(std::string_view(buf.data(), std::size_t(in.gcount())));
}

std::uint64_t track_number_from_stream_id(std::string_view id) {
    const auto slash = id.rfind('/');
    if (slash != std::string_view::npos) id.remove_prefix(slash + 1);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    if (ec != std::errc() || end == id.data() + id.size() || *end != ':') return 0;
    return n;
}

}  // namespace consult::media::composition
