// glide-ts/png-parameters: a picture's settings in its PNG text chunks, written and read without
// the rest of the library (no engine, no platform), for pages and tools that only handle the files.
export { addPngText, readPngText } from "./image/png-text.ts";
export {
  PARAMETERS_KEY,
  type PictureModel,
  type PictureParameters,
  parameterTexts,
  pictureParameters,
  readPictureParameters,
  SETTINGS_KEY,
} from "./pipelines/picture-parameters.ts";
