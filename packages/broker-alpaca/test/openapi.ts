/**
 * Checks requests and answers against Alpaca's own OpenAPI 3.0 spec (test/fixtures), with ajv
 * and ajv-formats after converting OAS 3.0 schemas (`nullable`) to JSON Schema with
 * @openapi-contrib/openapi-schema-to-json-schema. Unknown keys in answers are allowed (the spec
 * does not forbid them and Alpaca sends some); unknown query parameters in requests are not.
 */

import { readFileSync } from "node:fs";
import { openapiSchemaToJsonSchema } from "@openapi-contrib/openapi-schema-to-json-schema";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { JournalEntry } from "../src/testing/index.js";

// ajv-formats is CommonJS with a default export.
const addFormats =
  (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
  $ref?: string;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Json }> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

const spec = JSON.parse(
  readFileSync(new URL("./fixtures/alpaca-trading-api.json", import.meta.url), "utf8").replaceAll(
    '"#/components/',
    '"alpaca#/components/',
  ),
) as { paths: Record<string, Record<string, unknown>>; components: Json & { schemas: Record<string, Json> } };

function convert(schema: Json): Json {
  const out = openapiSchemaToJsonSchema(schema as never) as Json;
  delete out.$schema;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
addFormats(ajv);
ajv.addFormat("decimal", /^-?\d+(\.\d+)?$/);
ajv.addSchema(
  {
    $id: "alpaca",
    components: {
      schemas: Object.fromEntries(Object.entries(spec.components.schemas).map(([k, v]) => [k, convert(v)])),
    },
  },
  "alpaca",
);
const errorValidator = ajv.compile({ $ref: "alpaca#/components/schemas/Error" });
const compiled = new Map<Json, ValidateFunction>();
function validatorOf(schema: Json): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(convert(schema));
    compiled.set(schema, v);
  }
  return v;
}

const templates = Object.keys(spec.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

function operationOf(
  method: string,
  path: string,
): { template: string; op: Operation; params: Parameter[] } | null {
  const match = templates.find((t) => t.pattern.test(path));
  if (!match) return null;
  const item = spec.paths[match.template] as Record<string, unknown>;
  const op = item[method.toLowerCase()] as Operation | undefined;
  if (!op) return null;
  const resolve = (p: Parameter): Parameter => {
    if (!p.$ref) return p;
    const name = p.$ref.split("/").pop() as string;
    return (spec.components.parameters as Record<string, Parameter>)[name] as Parameter;
  };
  const params = [...((item.parameters as Parameter[]) ?? []), ...(op.parameters ?? [])].map(resolve);
  return { template: match.template, op, params };
}

/** Coerces a query string value to what the parameter's schema expects. */
function coerce(value: string, schema: Json | undefined): unknown {
  const type = schema?.type;
  if (type === "integer" || type === "number") return value.trim() === "" ? value : Number(value);
  if (type === "boolean") return value === "true" ? true : value === "false" ? false : value;
  if (type === "array") return value.split(",");
  return value;
}

const describe = (v: ValidateFunction) =>
  (v.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");

/** What is wrong with one journal entry (request and answer) against the spec; [] when nothing. */
export function specViolations(
  entry: Pick<JournalEntry, "method" | "path" | "query" | "body" | "status" | "response">,
): string[] {
  const where = `${entry.method} ${entry.path}`;
  const found = operationOf(entry.method, entry.path);
  if (!found) return [`${where}: not an operation of Alpaca's Trading API spec`];
  const problems: string[] = [];
  const query = found.params.filter((p) => p.in === "query");
  for (const [name, value] of Object.entries(entry.query)) {
    const param = query.find((p) => p.name === name);
    if (!param) {
      problems.push(`${where}: query parameter '${name}' is not in the spec`);
      continue;
    }
    if (param.schema) {
      const v = validatorOf(param.schema);
      if (!v(coerce(value, param.schema)))
        problems.push(`${where}: query '${name}=${value}': ${describe(v)}`);
    }
  }
  for (const p of query)
    if (p.required && !(p.name in entry.query)) problems.push(`${where}: query '${p.name}' is required`);
  const bodySchema = found.op.requestBody?.content?.["application/json"]?.schema;
  if (bodySchema && entry.body !== null) {
    const v = validatorOf(bodySchema);
    if (!v(entry.body)) problems.push(`${where}: request body: ${describe(v)}`);
  } else if (!bodySchema && entry.body !== null) problems.push(`${where}: a body where the spec has none`);
  if (entry.status === 0) return problems; // no answer was sent (an injected timeout or reset)
  const documented = found.op.responses[String(entry.status)];
  const schema = documented?.content?.["application/json"]?.schema;
  if (schema) {
    const v = validatorOf(schema);
    if (!v(entry.response)) problems.push(`${where} -> ${entry.status}: ${describe(v)}`);
  } else if (entry.status >= 400 && entry.status !== 401) {
    // Undocumented error bodies (403/422, 404 on order lookups) must still be Alpaca's Error.
    if (!errorValidator(entry.response))
      problems.push(`${where} -> ${entry.status}: error body: ${describe(errorValidator)}`);
  } else if (entry.status >= 200 && entry.status < 300 && !documented && entry.response !== null) {
    problems.push(`${where} -> ${entry.status}: an undocumented success status`);
  }
  return problems;
}

/** Violations of every journal entry that belongs to the Trading API (market data routes are skipped). */
export function journalViolations(journal: readonly JournalEntry[]): {
  checked: number;
  violations: string[];
} {
  let checked = 0;
  const violations: string[] = [];
  for (const entry of journal) {
    if (entry.path.startsWith("/v2/stocks/")) continue; // the market data API: not in this spec
    checked++;
    violations.push(...specViolations(entry));
  }
  return { checked, violations };
}
