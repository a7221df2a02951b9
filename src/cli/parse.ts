// Parsers for command-line option values: a bad value is one clear line naming the flag.
import { InvalidArgumentError } from "commander";

export function parseSteps(value: string): number | string {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1) throw new InvalidArgumentError("steps must be at least 1.");
    return n;
  }
  if (!/^(fast27|ddim\d+|\d+(,\d+)*)$/.test(text)) {
    throw new InvalidArgumentError('expected a step count or a respacing such as "fast27", "ddim25", "10,10,3".');
  }
  return text;
}

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("the seed must be a non-negative integer.");
  }
  return n;
}

export function parseCount(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer.`);
    return n;
  };
}

export function parseNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number.`);
    return n;
  };
}

export function parsePositive(flag: string): (value: string) => number {
  const parse = parseNumber(flag);
  return (value) => {
    const n = parse(value);
    if (n <= 0) throw new InvalidArgumentError(`${flag} must be positive.`);
    return n;
  };
}

export function parseNonNegativeInteger(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} must be a non-negative integer.`);
    return Number(value);
  };
}

export function parseNonNegative(flag: string): (value: string) => number {
  const parse = parseNumber(flag);
  return (value) => {
    const n = parse(value);
    if (n < 0) throw new InvalidArgumentError(`${flag} must not be negative.`);
    return n;
  };
}
