// Repairs that let old SVG files parse: resvg (like any XML parser) rejects a root element without
// the SVG namespace, prefixes (xlink:, sodipodi:, …) that are used but never declared, and
// malformed XML declarations (`<?xml version="1"?>`).

const KNOWN_NAMESPACES: Record<string, string> = {
  xlink: "http://www.w3.org/1999/xlink",
  svg: "http://www.w3.org/2000/svg",
  sodipodi: "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
  inkscape: "http://www.inkscape.org/namespaces/inkscape",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  cc: "http://creativecommons.org/ns#",
  dc: "http://purl.org/dc/elements/1.1/",
};

/** Adds the SVG namespace to the root element and declares any undeclared prefix there. */
export function fixSvgNamespaces(text: string): string {
  // The XML declaration is optional; dropping it also drops a malformed one.
  const svg = text.replace(/^\uFEFF?\s*<\?xml\b[^>]*\?>/, "");
  const root = /<svg(?=[\s>/])[^>]*>/.exec(svg);
  if (!root) return svg;
  const declared = new Set([...svg.matchAll(/xmlns:([\w.-]+)\s*=/g)].map((m) => m[1]!));
  const used = new Set(
    [...svg.matchAll(/(?:<\/?|\s)([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*(?=[\s=/>])/g)].map((m) => m[1]!),
  );
  const additions: string[] = [];
  if (!/\sxmlns\s*=/.test(root[0])) additions.push('xmlns="http://www.w3.org/2000/svg"');
  for (const prefix of used) {
    if (prefix === "xmlns" || prefix === "xml" || declared.has(prefix)) continue;
    additions.push(`xmlns:${prefix}="${KNOWN_NAMESPACES[prefix] ?? `urn:x-undeclared:${prefix}`}"`);
  }
  if (additions.length === 0) return svg;
  const at = root.index + 4;
  return `${svg.slice(0, at)} ${additions.join(" ")}${svg.slice(at)}`;
}
