// A QR code encoder (ISO/IEC 18004, byte mode, error correction level M) so the
// kiosk can show an invite link as a code without asking any other server.
// qrMatrix(text) → array of rows of booleans (true = dark); drawQr(canvas, text).

const EC_PER_BLOCK_M = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
  26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];
const BLOCKS_M = [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
  17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];
const LEVEL_M_BITS = 0b00;

// ---------------------------------------------------------------- GF(256) and Reed-Solomon

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}
const mul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

function generator(degree) {
  let g = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array(g.length + 1).fill(0);
    for (let j = 0; j < g.length; j++) {
      next[j] ^= g[j];
      next[j + 1] ^= mul(g[j], EXP[i]);
    }
    g = next;
  }
  return g;
}

function remainder(data, degree) {
  const g = generator(degree);
  const r = new Array(degree).fill(0);
  for (const byte of data) {
    const factor = byte ^ r.shift();
    r.push(0);
    for (let i = 0; i < degree; i++) r[i] ^= mul(g[i + 1], factor);
  }
  return r;
}

// ---------------------------------------------------------------- sizes

const sizeOf = (version) => version * 4 + 17;

function alignmentCentres(version) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const last = sizeOf(version) - 7;
  const step = version === 32 ? 26 : Math.ceil((last - 6) / (count - 1) / 2) * 2;
  const out = [6];
  for (let i = count - 2; i >= 0; i--) out.push(last - i * step);
  return out;
}

// Modules left for data and error correction once every function pattern is placed.
function rawModules(version) {
  const size = sizeOf(version);
  let n = size * size - 3 * 64 - 2 * (size - 16) - 31;   // finders+separators, timing, format + dark module
  const a = alignmentCentres(version).length;
  if (a) n -= 25 * (a * a - 3) - 5 * 2 * (a - 2);           // alignment patterns, less their overlap with timing
  if (version >= 7) n -= 36;                               // version information
  return n;
}

const dataCodewords = (v) => Math.floor(rawModules(v) / 8) - EC_PER_BLOCK_M[v - 1] * BLOCKS_M[v - 1];

// ---------------------------------------------------------------- bits

function encodeData(bytes, version) {
  const bits = [];
  const put = (value, length) => { for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
  put(0b0100, 4);                                          // byte mode
  put(bytes.length, version <= 9 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  const capacity = dataCodewords(version) * 8;
  put(0, Math.min(4, capacity - bits.length));
  while (bits.length % 8) bits.push(0);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; out.length < capacity / 8; pad ^= 0xec ^ 0x11) out.push(pad);
  return out;
}

function interleave(data, version) {
  const blocks = BLOCKS_M[version - 1];
  const ec = EC_PER_BLOCK_M[version - 1];
  const total = Math.floor(rawModules(version) / 8);
  const shortLen = Math.floor(total / blocks) - ec;        // data codewords in a short block
  const longBlocks = total % blocks;
  const dataBlocks = [];
  let at = 0;
  for (let b = 0; b < blocks; b++) {
    const len = shortLen + (b >= blocks - longBlocks ? 1 : 0);
    dataBlocks.push(data.slice(at, at + len));
    at += len;
  }
  const ecBlocks = dataBlocks.map((d) => remainder(d, ec));
  const out = [];
  for (let i = 0; i <= shortLen; i++) for (const d of dataBlocks) if (i < d.length) out.push(d[i]);
  for (let i = 0; i < ec; i++) for (const e of ecBlocks) out.push(e[i]);
  return out;
}

// ---------------------------------------------------------------- the matrix

class Grid {
  constructor(version) {
    this.version = version;
    this.size = sizeOf(version);
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }
  set(x, y, dark) { this.dark[y][x] = dark; this.fixed[y][x] = true; }

  functionPatterns() {
    const n = this.size;
    for (let i = 0; i < n; i++) { this.set(6, i, i % 2 === 0); this.set(i, 6, i % 2 === 0); }
    for (const [cx, cy] of [[3, 3], [n - 4, 3], [3, n - 4]])
      for (let dy = -4; dy <= 4; dy++)
        for (let dx = -4; dx <= 4; dx++) {
          const x = cx + dx, y = cy + dy;
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const d = Math.max(Math.abs(dx), Math.abs(dy));
          this.set(x, y, d !== 2 && d !== 4);
        }
    const centres = alignmentCentres(this.version);
    const last = centres.length - 1;
    centres.forEach((cy, i) => centres.forEach((cx, j) => {
        if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;   // a finder's corner
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++) this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }));
    this.format(0);                                        // reserve; the real bits come with the mask
    if (this.version >= 7) {
      let rem = this.version;
      for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
      const bits = (this.version << 12) | rem;
      for (let i = 0; i < 18; i++) {
        const dark = ((bits >>> i) & 1) === 1;
        const a = n - 11 + (i % 3), b = Math.floor(i / 3);
        this.set(a, b, dark);
        this.set(b, a, dark);
      }
    }
  }

  format(mask) {
    const n = this.size;
    const data = (LEVEL_M_BITS << 3) | mask;
    let rem = data;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const bits = ((data << 10) | rem) ^ 0x5412;
    const bit = (i) => ((bits >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(n - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, n - 15 + i, bit(i));
    this.set(8, n - 8, true);                              // the dark module
  }

  place(codewords) {
    const n = this.size;
    let i = 0;
    for (let right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let vert = 0; vert < n; vert++)
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          const upward = ((right + 1) & 2) === 0;
          const y = upward ? n - 1 - vert : vert;
          if (this.fixed[y][x]) continue;
          this.dark[y][x] = i < codewords.length * 8 && ((codewords[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
          i++;
        }
    }
  }

  applyMask(mask) {
    const rules = [
      (x, y) => (x + y) % 2 === 0, (x, y) => y % 2 === 0, (x) => x % 3 === 0, (x, y) => (x + y) % 3 === 0,
      (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0, (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
      (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0, (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
    ];
    for (let y = 0; y < this.size; y++)
      for (let x = 0; x < this.size; x++)
        if (!this.fixed[y][x] && rules[mask](x, y)) this.dark[y][x] = !this.dark[y][x];
  }

  // The standard's penalty: runs, 2×2 blocks, finder look-alikes, dark/light balance.
  penalty() {
    const n = this.size, m = this.dark;
    let score = 0;
    const lines = [];
    for (let i = 0; i < n; i++) { lines.push(m[i]); lines.push(m.map((row) => row[i])); }
    for (const line of lines) {
      let run = 1;
      for (let i = 1; i <= n; i++) {
        if (i < n && line[i] === line[i - 1]) { run++; continue; }
        if (run >= 5) score += run - 2;
        run = 1;
      }
      const s = line.map((d) => (d ? '1' : '0')).join('');
      for (const p of ['10111010000', '00001011101']) for (let at = s.indexOf(p); at >= 0; at = s.indexOf(p, at + 1)) score += 40;
    }
    for (let y = 0; y < n - 1; y++)
      for (let x = 0; x < n - 1; x++) {
        const d = m[y][x];
        if (d === m[y][x + 1] && d === m[y + 1][x] && d === m[y + 1][x + 1]) score += 3;
      }
    let darkCount = 0;
    for (const row of m) for (const d of row) if (d) darkCount++;
    score += Math.floor(Math.abs(darkCount * 20 - n * n * 10) / (n * n)) * 10;
    return score;
  }
}

export function qrMatrix(text) {
  const bytes = Array.from(new TextEncoder().encode(text));
  let version = 1;
  while (version <= 40 && dataCodewords(version) < bytes.length + (version <= 9 ? 2 : 3)) version++;
  if (version > 40) throw new Error('too long for a QR code');
  const codewords = interleave(encodeData(bytes, version), version);
  let best = null;
  for (let mask = 0; mask < 8; mask++) {
    const g = new Grid(version);
    g.functionPatterns();
    g.place(codewords);
    g.applyMask(mask);
    g.format(mask);
    const score = g.penalty();
    if (!best || score < best.score) best = { score, grid: g };
  }
  return best.grid.dark;
}

// Draws the code with a quiet zone of four modules, black on white.
export function drawQr(canvas, text, pixels = 320) {
  const m = qrMatrix(text);
  const modules = m.length + 8;
  const scale = Math.max(1, Math.floor(pixels / modules));
  canvas.width = canvas.height = modules * scale;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000';
  m.forEach((row, y) => row.forEach((dark, x) => { if (dark) ctx.fillRect((x + 4) * scale, (y + 4) * scale, scale, scale); }));
}
