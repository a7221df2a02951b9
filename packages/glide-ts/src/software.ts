// What made a picture, as its PNG parameters say.
import packageJson from "../package.json" with { type: "json" };

export const SOFTWARE = `glide-ts ${packageJson.version}`;
