/**
 * Validates responses against the OpenAPI document the router serves, with Ajv (JSON Schema
 * 2020-12, the dialect of OpenAPI 3.1). Every response a test receives through the harness goes
 * through {@link ResponseValidator.check}, so a handler cannot send what the document does not say.
 */

import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type Doc = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

const pointer = (parts: string[]) =>
  parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/** A response as the validator sees it. */
export interface CheckedResponse {
  method: string;
  /** Path below the mount point, without the query (`/schedules/abc`). */
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

/** Checks responses against the document. */
export class ResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly templates: { template: string; regex: RegExp }[];
  private readonly cache = new Map<string, ValidateFunction>();
  /** Responses checked so far, by operation and status (`get /schedules 200`). */
  readonly seen = new Map<string, number>();

  constructor(private readonly doc: Doc) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema(doc as object, "doc");
    this.templates = Object.keys(doc.paths)
      .map((template) => ({
        template,
        regex: new RegExp(
          `^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`,
        ),
      }))
      // Static templates first, as the router matches them.
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  }

  /** The document's path template that `path` falls under, or null. */
  templateOf(path: string): string | null {
    return this.templates.find((t) => t.regex.test(path))?.template ?? null;
  }

  /** Throws with the Ajv errors when `r` is not what the document says. */
  check(r: CheckedResponse): void {
    const template = this.templateOf(r.path);
    const method = r.method.toLowerCase();
    if (template === null || !this.doc.paths[template]?.[method]) {
      // Not an API path (dashboard files, 404s of unknown paths, 405s): only a problem body is allowed for errors.
      if (r.status >= 400) this.checkSchema("#/components/schemas/Problem", r.body, r);
      return;
    }
    const op = this.doc.paths[template]?.[method];
    const statusKey = op?.responses[String(r.status)] ? String(r.status) : "default";
    const response = op?.responses[statusKey];
    if (!response) throw new Error(`${method} ${template}: status ${r.status} is not documented`);
    this.seen.set(
      `${method} ${template} ${r.status}`,
      (this.seen.get(`${method} ${template} ${r.status}`) ?? 0) + 1,
    );
    if (!response.content) {
      if (r.body !== undefined && r.body !== "" && r.body !== null) {
        throw new Error(`${method} ${template} ${r.status}: documented without a body, got one`);
      }
      return;
    }
    const type = (r.contentType ?? "").split(";")[0]?.trim() ?? "";
    if (!(type in response.content)) {
      throw new Error(
        `${method} ${template} ${r.status}: content type '${type}' is not documented (${Object.keys(response.content).join(", ")})`,
      );
    }
    if (type === "text/event-stream" || type === "text/plain") return;
    const ref = `doc#/${pointer(["paths", template, method, "responses", statusKey, "content", type, "schema"])}`;
    this.checkSchema(ref, r.body, r);
  }

  /** Throws when `body` is not an instance of the component schema `name`. */
  checkComponent(name: string, body: unknown): void {
    this.checkSchema(`#/components/schemas/${name}`, body, {
      method: "-",
      path: name,
      status: 0,
      contentType: null,
      body,
    });
  }

  private checkSchema(ref: string, body: unknown, r: CheckedResponse): void {
    const key = ref.startsWith("#") ? `doc${ref}` : ref;
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.cache.set(key, validate);
    }
    if (!validate(body)) {
      throw new Error(
        `${r.method} ${r.path} ${r.status}: response does not match the document: ${this.ajv.errorsText(validate.errors, { separator: "; " })}\n${JSON.stringify(body).slice(0, 500)}`,
      );
    }
  }
}
