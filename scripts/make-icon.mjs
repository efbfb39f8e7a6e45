#!/usr/bin/env node
// Draws the app icon (resources/icon.png, 512x512 RGBA) with no dependencies: a hexagon and a
// key in white on a rounded square in the UI's accent colour. 4x4 supersampling per pixel for
// smooth edges; PNG written by hand (signature, IHDR, IDAT via zlib, IEND).
// Usage: node scripts/make-icon.mjs [out.png]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SS = 4; // samples per axis
const out = resolve(process.argv[2] ?? fileURLToPath(new URL('../resources/icon.png', import.meta.url)));

// ---- shapes: (x, y) in pixel units -> inside? ----
const C = SIZE / 2;

/**
 * @param {number} x
 * @param {number} y
 */
function roundedSquare(x, y, margin = 16, r = 104) {
  const lo = margin,
    hi = SIZE - margin;
  if (x < lo || x > hi || y < lo || y > hi) return false;
  const cx = Math.min(Math.max(x, lo + r), hi - r);
  const cy = Math.min(Math.max(y, lo + r), hi - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/**
 * Pointy-top regular hexagon of circumradius R centred on the icon.
 * @param {number} x
 * @param {number} y
 * @param {number} R
 */
function hexagon(x, y, R) {
  const dx = Math.abs(x - C),
    dy = Math.abs(y - C);
  const w = (Math.sqrt(3) / 2) * R; // half width (flat sides left and right)
  return dx <= w && dy <= R - dx / Math.sqrt(3);
}

/** @type {(x: number, y: number) => boolean} */
const hexRing = (x, y) => hexagon(x, y, 196) && !hexagon(x, y, 166);

/**
 * @param {number} x
 * @param {number} y
 */
function key(x, y) {
  // The bow: a ring on the left.
  const bx = 196,
    by = C,
    d2 = (x - bx) ** 2 + (y - by) ** 2;
  if (d2 <= 62 ** 2 && d2 >= 30 ** 2) return true;
  // The shaft.
  if (x >= 252 && x <= 372 && Math.abs(y - C) <= 14) return true;
  // Two teeth.
  if (y >= C && y <= C + 50 && ((x >= 316 && x <= 334) || (x >= 350 && x <= 372))) return true;
  return false;
}

// ---- colours ----
const TOP = [0x3b, 0x66, 0xe8];
const BOTTOM = [0x23, 0x41, 0xa8];
const WHITE = [0xff, 0xff, 0xff];

/**
 * Moves colour `from` towards colour `to` by the share t (0..1), channel by channel.
 * @param {readonly number[]} from
 * @param {readonly number[]} to
 * @param {number} t
 */
function mix(from, to, t) {
  return from.map((c, k) => c + ((to[k] ?? c) - c) * t);
}

/**
 * @param {number} px
 * @param {number} py
 * @returns {[number, number, number, number]} RGBA
 */
function pixel(px, py) {
  let bg = 0,
    fg = 0;
  for (let i = 0; i < SS; i++) {
    for (let j = 0; j < SS; j++) {
      const x = px + (i + 0.5) / SS,
        y = py + (j + 0.5) / SS;
      if (!roundedSquare(x, y)) continue;
      bg++;
      if (hexRing(x, y) || key(x, y)) fg++;
    }
  }
  const n = SS * SS;
  if (bg === 0) return [0, 0, 0, 0];
  const t = py / (SIZE - 1);
  const base = mix(TOP, BOTTOM, t);
  const f = fg / bg; // white share of the covered part
  const [r = 0, g = 0, b = 0] = mix(base, WHITE, f).map(Math.round);
  return [r, g, b, Math.round((255 * bg) / n)];
}

// ---- PNG ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** @param {Buffer} buf */
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * @param {string} type
 * @param {Buffer} data
 */
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const raw = Buffer.alloc(SIZE * (1 + SIZE * 4));
for (let y = 0; y < SIZE; y++) {
  const row = y * (1 + SIZE * 4);
  raw[row] = 0; // filter: none
  for (let x = 0; x < SIZE; x++) {
    const [r, g, b, a] = pixel(x, y);
    const o = row + 1 + x * 4;
    raw[o] = r;
    raw[o + 1] = g;
    raw[o + 2] = b;
    raw[o + 3] = a;
  }
}

const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // colour type: RGBA
ihdr[10] = 0;
ihdr[11] = 0;
ihdr[12] = 0; // compression, filter, interlace

const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, png);
console.log(`wrote ${out} (${SIZE}x${SIZE}, ${png.length} bytes)`);
