// A multipart/form-data body read whole: its text fields and its files (within the plugin's size
// limits). Anything unreadable is a 400; a file or a body past a limit a 413.
import type { FastifyRequest } from "fastify";
import { ApiError } from "./errors.ts";

export interface MultipartBody {
  /** Text, or what a field sent as application/json parsed to. */
  fields: Record<string, unknown>;
  files: Record<string, Uint8Array>;
}

/** OpenAI's client sends one picture as `image`, several as `image[]`. */
const fieldName = (name: string) => name.replace(/\[\]$/, "");

export async function readMultipart(request: FastifyRequest): Promise<MultipartBody> {
  if (!request.isMultipart()) {
    throw new ApiError(400, "this endpoint takes multipart/form-data (an image file and text fields)", {
      param: "body",
      code: "invalid_content_type",
    });
  }
  const fields: Record<string, unknown> = {};
  const files: Record<string, Uint8Array> = {};
  try {
    for await (const part of request.parts()) {
      const name = fieldName(part.fieldname);
      if (part.type === "file") {
        const bytes = await part.toBuffer();
        if (name in files) throw new ApiError(400, `send one ${name} file, not several`, { param: name });
        files[name] = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } else {
        if (part.valueTruncated) {
          throw new ApiError(413, `the field ${name} is longer than this server takes`, {
            param: name,
            code: "payload_too_large",
          });
        }
        fields[name] = part.value;
      }
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) {
      throw new ApiError(413, (error as Error).message, { param: "body", code: "payload_too_large" });
    }
    throw new ApiError(400, `the multipart body cannot be read: ${(error as Error).message}`, {
      param: "body",
      code: "invalid_multipart",
    });
  }
  return { fields, files };
}
