"""Reads a QEMU screendump (binary PPM) and says whether the kiosk's sign-in screen (or,
with "setup", its first-start setup screen) is on it.

  screen_check.py DUMP.ppm OUT.png [signin|setup]

How the screens are told apart (by their colours and text regions, which the kiosk's own
stylesheet fixes; ui-kiosk/kiosk/index.html and kiosk.css):
  - header: the band 1-5 % from the top is mostly the panel colour (#111827, > 40 %: the status chips and the clock take some);
  - page:   below the top bar the page is mostly black (> 60 % from 12 to 88 %);
  - title:  the screen's title is white text centred under the bar (some white, > 1 %,
            in x 30-70 %, y 10-18 %);
  - about:  the sign-in's "About this appliance" is light text at the bottom left (> 0.5 %
            light in x 2-22 %, y 90-97 %); the setup screen has nothing there (< 0.5 %);
  - finish: the setup screen's "Finish setup" button fills the bottom right with the
            accent colour (#7dd3fc, > 30 % of x 78-97 %, y 91-96 %); the sign-in has none
            there (< 1 %).
A text console, a blank (black or white) screen, a browser error page or the other kiosk
screen fails at least one of these. Prints the shares and the size, exits 0 when all hold,
else 1. Writes the dump as a PNG for the test's artifacts either way. Standard library only.
"""
import struct
import sys
import zlib

PANEL = (0x11, 0x18, 0x27)
ACCENT = (0x7d, 0xd3, 0xfc)


def read_ppm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise SystemExit("not an 8-bit binary PPM")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise SystemExit("PPM cut short")
    return width, height, pixels


def write_png(path, width, height, pixels):
    rows = b"".join(b"\0" + pixels[y * width * 3:(y + 1) * width * 3] for y in range(height))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def main():
    width, height, pixels = read_ppm(sys.argv[1])
    write_png(sys.argv[2], width, height, pixels)

    def share(x0, x1, y0, y1, test):   # the share of pixels in that box (fractions of the screen) passing test
        xs, ys = range(int(width * x0), int(width * x1)), range(int(height * y0), int(height * y1))
        hits = sum(test(pixels[(y * width + x) * 3:(y * width + x) * 3 + 3]) for y in ys for x in xs)
        return hits / max(1, len(xs) * len(ys))

    want = sys.argv[3] if len(sys.argv) > 3 else "signin"
    if want not in ("signin", "setup"):
        raise SystemExit("the screen is signin or setup")
    panel = lambda p: all(abs(a - b) <= 6 for a, b in zip(p, PANEL))
    accent = lambda p: all(abs(a - b) <= 12 for a, b in zip(p, ACCENT))
    black = lambda p: max(p) < 24
    white = lambda p: min(p) > 200
    light = lambda p: min(p) > 150
    header = share(0, 1, 0.01, 0.05, panel)
    page = share(0, 1, 0.12, 0.88, black)
    title = share(0.30, 0.70, 0.10, 0.18, white)
    about = share(0.02, 0.22, 0.90, 0.97, light)
    finish = share(0.78, 0.97, 0.91, 0.96, accent)
    print(f"{want}: header={header:.2f} page={page:.2f} title={title:.3f} about={about:.3f} finish={finish:.2f} "
          f"{width}x{height}")
    common = header > 0.4 and page > 0.6 and title > 0.01
    if want == "signin":
        return 0 if common and about > 0.005 and finish < 0.01 else 1
    return 0 if common and about < 0.005 and finish > 0.3 else 1


if __name__ == "__main__":
    sys.exit(main())
