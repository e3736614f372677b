// Just enough of Kubernetes' protobuf encoding to read the access reviews kubectl posts
// (`kubectl auth can-i` sends them as application/vnd.kubernetes.protobuf and does not fall back to
// JSON). Answers still go out as JSON, which the client accepts.

/** The magic prefix of Kubernetes protobuf bodies, before a runtime.Unknown envelope. */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Fields = Map<number, Buffer[]>;

function readVarint(buf: Buffer, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (offset >= buf.length) throw new Error('truncated varint');
    const byte = buf[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, offset];
    shift += 7;
  }
}

/** Length-delimited fields of a message by number (varints and fixed-width fields are skipped). */
function decodeFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let offset = 0;
  while (offset < buf.length) {
    const [tag, afterTag] = readVarint(buf, offset);
    offset = afterTag;
    const wireType = tag & 7;
    const field = Math.floor(tag / 8);
    if (wireType === 0) offset = readVarint(buf, offset)[1];
    else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else if (wireType === 2) {
      const [length, start] = readVarint(buf, offset);
      const value = buf.subarray(start, start + length);
      fields.set(field, [...(fields.get(field) ?? []), value]);
      offset = start + length;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
  return fields;
}

function message(fields: Fields, n: number): Fields | undefined {
  const raw = fields.get(n)?.[0];
  return raw ? decodeFields(raw) : undefined;
}

function text(fields: Fields | undefined, n: number): string | undefined {
  const raw = fields?.get(n)?.[0];
  return raw ? raw.toString('utf8') : undefined;
}

/** The object inside a Kubernetes protobuf body (runtime.Unknown's `raw`). */
function unwrap(body: Buffer): Fields {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a Kubernetes protobuf body');
  const envelope = decodeFields(body.subarray(MAGIC.length));
  const raw = envelope.get(2)?.[0];
  if (!raw) throw new Error('protobuf envelope without an object');
  return decodeFields(raw);
}

function withoutUndefined(obj: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** A SelfSubjectAccessReview body as the JSON shape `{ spec: { resourceAttributes | nonResourceAttributes } }`. */
export function decodeAccessReview(body: Buffer): { spec: Record<string, unknown> } {
  const spec = message(unwrap(body), 2);
  const resource = spec ? message(spec, 1) : undefined;
  const nonResource = spec ? message(spec, 2) : undefined;
  const out: Record<string, unknown> = {};
  if (resource) {
    out.resourceAttributes = withoutUndefined({
      namespace: text(resource, 1),
      verb: text(resource, 2),
      group: text(resource, 3),
      version: text(resource, 4),
      resource: text(resource, 5),
      subresource: text(resource, 6),
      name: text(resource, 7),
    });
  }
  if (nonResource) out.nonResourceAttributes = withoutUndefined({ path: text(nonResource, 1), verb: text(nonResource, 2) });
  return { spec: out };
}

/** A SelfSubjectRulesReview body as `{ spec: { namespace } }`. */
export function decodeRulesReview(body: Buffer): { spec: Record<string, unknown> } {
  const spec = message(unwrap(body), 2);
  return { spec: withoutUndefined({ namespace: text(spec, 1) }) };
}
