/**
 * How deep a JSON text nests, found without parsing it. JSON.parse takes any depth, but
 * JSON.stringify and validators recurse, and deeply nested input made them overflow the stack
 * (a 500; docs/threat-model.md, "Every client error is a 4xx"). A small scanner of our own: no
 * parser on npm stops at a depth without building the whole value first.
 */

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the JSON text in `bytes` (UTF-8) opens more than `max` objects and arrays inside each
 * other, counting only brackets outside strings. Malformed text is left to JSON.parse.
 */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}
