// Text chunks of PNG files: a picture carries how it was made (the `parameters` chunk that
// A1111-style tools read, and our own JSON), written after IHDR and read back. Plain bytes, so the
// core writes them on any platform. Latin-1 text goes in tEXt; other text in an uncompressed iTXt
// (UTF-8), as the PNG specification asks.

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class PngTextError extends Error {
  override name = "PngTextError";
}

function checkSignature(png: Uint8Array): void {
  if (png.length < 8 || SIGNATURE.some((b, i) => png[i] !== b)) throw new PngTextError("not a PNG file");
}

const latin1 = (text: string) => [...text].every((ch) => ch.charCodeAt(0) <= 0xff && ch.length === 1);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function textChunk(keyword: string, text: string): Uint8Array {
  if (!/^[\x20-\x7e]{1,79}$/.test(keyword) || keyword !== keyword.trim()) {
    throw new PngTextError(`a PNG text keyword is 1–79 printable Latin-1 characters, got '${keyword}'`);
  }
  const key = [...keyword].map((c) => c.charCodeAt(0));
  if (latin1(text)) return chunk("tEXt", Uint8Array.from([...key, 0, ...[...text].map((c) => c.charCodeAt(0))]));
  // iTXt: keyword, 0, compression flag 0, method 0, empty language tag, 0, empty translated keyword, 0, UTF-8 text.
  return chunk("iTXt", Uint8Array.from([...key, 0, 0, 0, 0, 0, ...new TextEncoder().encode(text)]));
}

/** The PNG with a text chunk per entry inserted after its header chunk (IHDR). */
export function addPngText(png: Uint8Array, entries: Readonly<Record<string, string>>): Uint8Array {
  checkSignature(png);
  const ihdrEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
  const chunks = Object.entries(entries).map(([keyword, text]) => textChunk(keyword, text));
  const out = new Uint8Array(png.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(png.subarray(0, ihdrEnd));
  let at = ihdrEnd;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  out.set(png.subarray(ihdrEnd), at);
  return out;
}

/** The tEXt and uncompressed iTXt chunks of a PNG, by keyword (a chunk with a bad CRC is skipped). */
export function readPngText(png: Uint8Array): Record<string, string> {
  checkSignature(png);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const texts: Record<string, string> = {};
  for (let at = 8; at + 12 <= png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (at + 12 + length > png.length) break;
    const data = png.subarray(at + 8, at + 8 + length);
    const intact = crc32(png.subarray(at + 4, at + 8 + length)) === view.getUint32(at + 8 + length);
    if (intact && (type === "tEXt" || type === "iTXt")) {
      const zero = data.indexOf(0);
      const keyword = String.fromCharCode(...data.subarray(0, zero));
      if (type === "tEXt") texts[keyword] = String.fromCharCode(...data.subarray(zero + 1));
      else if (data[zero + 1] === 0) {
        // Uncompressed only: skip the language tag and the translated keyword.
        const language = data.indexOf(0, zero + 3);
        const translated = data.indexOf(0, language + 1);
        texts[keyword] = new TextDecoder().decode(data.subarray(translated + 1));
      }
    }
    if (type === "IEND") break;
    at += 12 + length;
  }
  return texts;
}
