// The JSON body of an istiod debug endpoint, shared by its parsers so a body that is not JSON
// (an HTML error page, a 404 text) is reported the same way whichever endpoint served it.

/** Parse a debug endpoint's body. Throws an Error naming the endpoint (`what`) and the body's start when it is not JSON. */
export function parseDebugJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`${what} is not JSON (starts with ${JSON.stringify(body.trim().slice(0, 40))})`);
  }
}
