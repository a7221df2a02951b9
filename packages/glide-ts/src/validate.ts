// The common checks of user input (counts, ranges, names), each failing with a GlideError kind whose
// message names the value, says what it must be and shows what it got.
import { GlideError } from "./errors.ts";

/** A value given by the user that is outside what it may be. */
export class InvalidValueError extends GlideError {
  override name = "InvalidValueError";
}

/** The error class a check throws; callers in a layer with its own kind (PipelineError, …) pass it. */
export type ErrorKind = new (message: string) => GlideError;

function shown(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : String(value);
}

function fail(kind: ErrorKind, what: string, must: string, value: unknown): never {
  throw new kind(`${what} must be ${must}, got ${shown(value)}`);
}

export function checkInteger(value: unknown, what: string, kind: ErrorKind = InvalidValueError): number {
  if (!Number.isSafeInteger(value)) fail(kind, what, "an integer", value);
  return value as number;
}

export function checkPositiveInteger(value: unknown, what: string, kind: ErrorKind = InvalidValueError): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) fail(kind, what, "a positive integer", value);
  return value as number;
}

export function checkNonNegativeInteger(value: unknown, what: string, kind: ErrorKind = InvalidValueError): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(kind, what, "a non-negative integer", value);
  return value as number;
}

/** An integer from `min` to `max`, both included. */
export function checkIntegerInRange(
  value: unknown,
  what: string,
  min: number,
  max: number,
  kind: ErrorKind = InvalidValueError,
): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    fail(kind, what, `an integer from ${min} to ${max}`, value);
  }
  return value as number;
}

/** A finite number from `min` to `max`, both included. */
export function checkInRange(
  value: unknown,
  what: string,
  min: number,
  max: number,
  kind: ErrorKind = InvalidValueError,
): number {
  if (typeof value !== "number" || !(value >= min && value <= max)) fail(kind, what, `from ${min} to ${max}`, value);
  return value;
}

/** A finite number above zero. */
export function checkPositive(value: unknown, what: string, kind: ErrorKind = InvalidValueError): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) fail(kind, what, "a positive number", value);
  return value;
}

/** A finite number not below zero. */
export function checkNonNegative(value: unknown, what: string, kind: ErrorKind = InvalidValueError): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(kind, what, "a non-negative number", value);
  }
  return value;
}

/** One of the names in `allowed`. */
export function checkOneOf<T extends string>(
  value: unknown,
  what: string,
  allowed: readonly T[],
  kind: ErrorKind = InvalidValueError,
): T {
  if (!(allowed as readonly unknown[]).includes(value)) fail(kind, what, `one of ${allowed.join(", ")}`, value);
  return value as T;
}
