// A minimal random-access zip reader for torch.save archives: central directory (zip64 included),
// STORED entries only, reads straight from the file into caller-provided buffers, each entry's
// CRC-32 checked over the bytes as they are read. Sizes are plain numbers (exact up to 2^53 bytes).

import type { FileHandle } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { CheckpointError } from "./errors.ts";
import { openForReading, readFully } from "./read-fully.ts";

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate, ... */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** The CRC-32 of the data, from the central directory. */
  crc32: number;
}

/** Bytes per read when an entry's tail is read only for its CRC-32. */
const SKIP_CHUNK = 1 << 20;

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

function safe(v: bigint, what: string, path: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(`${path}: zip ${what} ${v} is out of range`);
  return Number(v);
}

export class ZipFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly fileSize: number,
    readonly entries: Map<string, ZipEntry>,
    /** Where the central directory starts: every entry's data must end before it. */
    private readonly dataEnd: number,
  ) {}

  /** Opens `path` and reads its central directory. The caller must `close()` it. */
  static async open(path: string): Promise<ZipFile> {
    const fh = await openForReading(path);
    try {
      const size = (await fh.stat()).size;
      const { entries, cdOffset } = await readCentralDirectory(fh, size, path);
      return new ZipFile(path, fh, size, entries, cdOffset);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Fills `into` from absolute file position `position`. */
  readAt(into: Uint8Array, position: number): Promise<void> {
    return readFully(this.fh, into, position, this.path);
  }

  /** Absolute file offset of a STORED entry's data, checked to lie inside the file. */
  async dataOffset(entry: ZipEntry): Promise<number> {
    if (entry.method !== 0) {
      throw new CheckpointError(
        `${this.path}: zip entry '${entry.name}' is compressed (method ${entry.method}); torch.save writes ` +
          "uncompressed (stored) entries",
      );
    }
    const header = new Uint8Array(30);
    if (entry.localHeaderOffset + 30 > this.dataEnd) throw this.corrupt(`local header of '${entry.name}' out of range`);
    await this.readAt(header, entry.localHeaderOffset);
    const v = new DataView(header.buffer);
    if (v.getUint32(0, true) !== LOCAL_SIG) throw this.corrupt(`bad local header signature for '${entry.name}'`);
    const start = entry.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
    if (start + entry.compressedSize > this.dataEnd) {
      throw this.corrupt(`data of '${entry.name}' (${entry.compressedSize} bytes at ${start}) runs past the archive`);
    }
    return start;
  }

  /** A reader of a STORED entry's data, front to back, that checks its CRC-32 when finished. */
  async openEntry(entry: ZipEntry): Promise<EntryReader> {
    return new EntryReader(this, entry, await this.dataOffset(entry));
  }

  /** Reads a whole STORED entry into a new buffer (its CRC-32 checked). */
  async readEntry(entry: ZipEntry): Promise<Uint8Array> {
    const out = new Uint8Array(entry.size);
    const reader = await this.openEntry(entry);
    await reader.read(out);
    await reader.finish();
    return out;
  }

  private corrupt(what: string): CheckpointError {
    return new CheckpointError(`${this.path}: corrupt zip archive: ${what}`);
  }
}

/** Reads one entry in order into the caller's buffers, keeping the CRC-32 of what has passed. */
export class EntryReader {
  private position = 0;
  private crc = 0;

  constructor(
    private readonly zip: ZipFile,
    readonly entry: ZipEntry,
    private readonly start: number,
  ) {}

  /** Fills `into` with the entry's next bytes. */
  async read(into: Uint8Array): Promise<void> {
    if (this.position + into.length > this.entry.size) {
      throw new RangeError(`zip entry '${this.entry.name}' has ${this.entry.size} bytes, read past them`);
    }
    await this.zip.readAt(into, this.start + this.position);
    this.crc = crc32(into, this.crc);
    this.position += into.length;
  }

  /** Reads what is left (for the CRC only), then throws a CheckpointError unless the CRC-32 matches. */
  async finish(): Promise<void> {
    const rest = this.entry.size - this.position;
    if (rest > 0) {
      const scratch = new Uint8Array(Math.min(rest, SKIP_CHUNK));
      while (this.position < this.entry.size) {
        await this.read(scratch.subarray(0, Math.min(scratch.length, this.entry.size - this.position)));
      }
    }
    if (this.crc !== this.entry.crc32) {
      throw new CheckpointError(
        `${this.zip.path}: zip entry '${this.entry.name}' is corrupt: its CRC-32 is ${hex(this.crc)}, the archive ` +
          `records ${hex(this.entry.crc32)} (a damaged or altered file; download or copy it again)`,
      );
    }
  }
}

function hex(crc: number): string {
  return crc.toString(16).padStart(8, "0");
}

async function readCentralDirectory(
  fh: FileHandle,
  size: number,
  path: string,
): Promise<{ entries: Map<string, ZipEntry>; cdOffset: number }> {
  const corrupt = (what: string) => new CheckpointError(`${path}: corrupt zip archive: ${what}`);
  const read = async (position: number, length: number): Promise<DataView> => {
    if (position < 0 || position + length > size) throw corrupt(`record at ${position} lies outside the file`);
    const buf = new Uint8Array(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    if (bytesRead !== length) throw corrupt(`short read at ${position}`);
    return new DataView(buf.buffer);
  };

  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await read(size - tailLength, tailLength);
  let eocd = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD_SIG && i + 22 + tail.getUint16(i + 20, true) <= tailLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new CheckpointError(
      `${path}: not a zip archive, or truncated: no end-of-central-directory record ` +
        "(expected a torch.save checkpoint, a zip file)",
    );
  }
  const eocdPos = size - tailLength + eocd;
  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);

  // zip64: a locator right before the EOCD points at the zip64 EOCD record.
  if (eocdPos >= 20) {
    const loc = await read(eocdPos - 20, 20);
    if (loc.getUint32(0, true) === ZIP64_LOCATOR_SIG) {
      const z64Pos = safe(loc.getBigUint64(8, true), "zip64 EOCD offset", path);
      const z = await read(z64Pos, 56);
      if (z.getUint32(0, true) !== ZIP64_EOCD_SIG) throw corrupt("bad zip64 end-of-central-directory signature");
      count = safe(z.getBigUint64(32, true), "entry count", path);
      cdSize = safe(z.getBigUint64(40, true), "central directory size", path);
      cdOffset = safe(z.getBigUint64(48, true), "central directory offset", path);
    } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      throw corrupt("zip64 sizes announced but no zip64 locator found");
    }
  }
  if (cdOffset + cdSize > eocdPos) throw corrupt("central directory runs past its end record");
  // Each central record is at least 46 bytes: bounds `count` before we trust it.
  if (count * 46 > cdSize) throw corrupt(`${count} entries cannot fit in a ${cdSize}-byte central directory`);

  const cd = await read(cdOffset, cdSize);
  const decoder = new TextDecoder("utf-8");
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cd.getUint32(p, true) !== CENTRAL_SIG) throw corrupt(`bad central directory entry ${i}`);
    const method = cd.getUint16(p + 10, true);
    const crc = cd.getUint32(p + 16, true);
    let compressedSize = cd.getUint32(p + 20, true);
    let uncompressedSize = cd.getUint32(p + 24, true);
    const nameLength = cd.getUint16(p + 28, true);
    const extraLength = cd.getUint16(p + 30, true);
    const commentLength = cd.getUint16(p + 32, true);
    let localHeaderOffset = cd.getUint32(p + 42, true);
    const end = p + 46 + nameLength + extraLength + commentLength;
    if (end > cdSize) throw corrupt(`central directory entry ${i} overruns the directory`);
    const name = decoder.decode(new Uint8Array(cd.buffer, p + 46, nameLength));

    // zip64 extended information: the 64-bit values replace exactly the fields that are saturated.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cd.getUint16(e, true);
      const len = cd.getUint16(e + 2, true);
      if (e + 4 + len > extraEnd) throw corrupt(`extra field of '${name}' overruns its entry`);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (what: string): number => {
          if (q + 8 > e + 4 + len) throw corrupt(`zip64 extra field of '${name}' is too short`);
          const v = safe(cd.getBigUint64(q, true), what, path);
          q += 8;
          return v;
        };
        if (uncompressedSize === U32_MAX) uncompressedSize = next("entry size");
        if (compressedSize === U32_MAX) compressedSize = next("entry size");
        if (localHeaderOffset === U32_MAX) localHeaderOffset = next("entry offset");
      }
      e += 4 + len;
    }
    if (method === 0 && compressedSize !== uncompressedSize) {
      throw corrupt(`stored entry '${name}' has different compressed and uncompressed sizes`);
    }
    entries.set(name, { name, method, compressedSize, size: uncompressedSize, localHeaderOffset, crc32: crc });
    p = end;
  }
  return { entries, cdOffset };
}
