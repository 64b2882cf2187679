// Our proto files through protobufjs, and a decoded message as the proto3 JSON mapping writes it
// (jsonpb: defaults written, message fields and oneof members only when set): what the REST proxy
// and the WebSocket streams must answer for a message a gRPC client decodes.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { sourceDir } from './harness.mjs';

export const PACKAGE = 'tinkoff.public.invest.api.contract.v1';

/** Every .proto file of proto/ in one root (camelCase field names), resolved. */
export function loadContract() {
  const protoDir = join(sourceDir, 'proto');
  const root = new protobuf.Root();
  // Our files first, then the system's google/protobuf/*.proto.
  root.resolvePath = (origin, target) =>
    [protoDir, '/usr/include'].map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target;
  root.loadSync(readdirSync(protoDir).filter((f) => f.endsWith('.proto')), { keepCase: false });
  root.resolveAll();
  return root;
}

export function rfc3339(seconds, nanos) {
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (!nanos) return `${base}Z`;
  let digits = String(nanos).padStart(9, '0');
  while (digits.length > 3 && digits.endsWith('000')) digits = digits.slice(0, -3);
  return `${base}.${digits}Z`;
}

export function asJson(type, message) {
  if (type.fullName === '.google.protobuf.Timestamp') return rfc3339(message.seconds, message.nanos);
  const out = {};
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    const set = Object.prototype.hasOwnProperty.call(message, field.name);
    const isMessage = field.resolvedType instanceof protobuf.Type;
    if (!field.repeated && (field.partOf || isMessage) && (!set || value == null)) continue;
    const one = (v) => {
      if (isMessage) return asJson(field.resolvedType, v);
      if (field.resolvedType instanceof protobuf.Enum) return field.resolvedType.valuesById[v] ?? v;
      if (/^(u?int64|s?fixed64|sint64)$/.test(field.type)) return String(v);
      if (field.type === 'bytes') return Buffer.from(v).toString('base64');
      return v;
    };
    out[field.name] = field.repeated ? (value ?? []).map(one) : one(value);
  }
  return out;
}
