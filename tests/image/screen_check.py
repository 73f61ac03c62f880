"""Reads a QEMU screendump (binary PPM) and says whether the kiosk is on the screen.

  screen_check.py DUMP.ppm OUT.png

The kiosk's every screen has its top bar in the panel colour (#111827) across the full
width, over a black page with white text; a text console or a blank screen has neither.
Prints "header=<share> text=<share> WxH" and exits 0 when the band 2-7 % from the top is
mostly the panel colour (> 50 %) and some of the screen is white text (> 0.2 %), else 1.
Writes the dump as a PNG for the test's artifacts either way. Standard library only.
"""
import struct
import sys
import zlib

PANEL = (0x11, 0x18, 0x27)


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
    near = lambda p, c: all(abs(a - b) <= 6 for a, b in zip(p, c))
    band = [pixels[i:i + 3] for y in range(int(height * 0.02), int(height * 0.07))
            for i in range(y * width * 3, (y + 1) * width * 3, 3)]
    header = sum(near(p, PANEL) for p in band) / max(1, len(band))
    text = sum(min(pixels[i:i + 3]) > 200 for i in range(0, len(pixels), 3)) / (width * height)
    print(f"header={header:.2f} text={text:.4f} {width}x{height}")
    return 0 if header > 0.5 and text > 0.002 else 1


if __name__ == "__main__":
    sys.exit(main())
