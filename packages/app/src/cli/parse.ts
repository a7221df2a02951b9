// Parsers for command-line option values: a bad value is one clear line naming the flag.
import { availableParallelism } from "node:os";
import { OptionValueError } from "./errors.ts";

/** What the respacing (src/diffusion/respace.ts) reads: "fast27", "ddimN", or section counts, spaces allowed around numbers. */
const RESPACING = /^(fast27|ddim\s*\d+|\d+(\s*,\s*\d+)*)$/;

/** A step count, or a respacing with its spaces taken out ("10, 10, 3" → "10,10,3"). */
export function parseSteps(value: string): number | string {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1) throw new OptionValueError("steps must be at least 1.");
    return n;
  }
  if (!RESPACING.test(text)) {
    throw new OptionValueError('expected a step count or a respacing such as "fast27", "ddim25", "10,10,3".');
  }
  return text.replace(/\s+/g, "");
}

/** onnxruntime threads: 1 to the cores this process may use (more only slows it down). */
export function parseThreads(value: string): number {
  const cores = availableParallelism();
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) throw new OptionValueError("--threads must be a positive integer.");
  if (n > cores) {
    throw new OptionValueError(`--threads must be at most ${cores}, the CPU cores available here (got ${n}).`);
  }
  return n;
}

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new OptionValueError("the seed must be a non-negative integer.");
  }
  return n;
}

export function parseCount(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < 1 || !Number.isSafeInteger(n)) {
      throw new OptionValueError(`${flag} must be a positive integer.`);
    }
    return n;
  };
}

export function parseNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new OptionValueError(`${flag} must be a number.`);
    return n;
  };
}

export function parsePositive(flag: string): (value: string) => number {
  const parse = parseNumber(flag);
  return (value) => {
    const n = parse(value);
    if (n <= 0) throw new OptionValueError(`${flag} must be positive.`);
    return n;
  };
}

export function parseNonNegativeInteger(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new OptionValueError(`${flag} must be a non-negative integer.`);
    return Number(value);
  };
}

export function parseNonNegative(flag: string): (value: string) => number {
  const parse = parseNumber(flag);
  return (value) => {
    const n = parse(value);
    if (n < 0) throw new OptionValueError(`${flag} must not be negative.`);
    return n;
  };
}

/** A commander parser from a library parser: its user error becomes commander's one-line error. */
export function cliParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new OptionValueError(error instanceof Error ? error.message : String(error));
    }
  };
}
