/**
 * The HTTP API's tokens, read from the environment variables the config names (a token is never
 * written in a config file). Read when `tradecron start` (or `validate`) needs them, not when any
 * command loads the config: a shell that runs `tradecron history` need not hold the service's
 * secrets. Problems name the field and the variable, never a value.
 */

import type { ValidationIssue } from "@tradecron/core";
import type { TokenSpec } from "@tradecron/http";
import type { ResolvedHttp } from "../config/validate.js";
import { ConfigError } from "../errors.js";

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * @tradecron/http's MIN_TOKEN_LENGTH (a test checks they agree). Not imported: commands read
 * tokens too, and loading the router's package (Express, helmet, prom-client) costs every
 * command a tenth of a second for one number.
 */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The router's token specs from `http.tokens` and `env`. Throws a ConfigError naming `file` and
 * each `http.tokens[i]` whose variable is missing or holds something unusable.
 */
export function httpTokens(
  http: ResolvedHttp,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): TokenSpec[] {
  const issues: ValidationIssue[] = [];
  const specs: TokenSpec[] = [];
  const seen = new Set<string>();
  for (const [i, t] of http.tokens.entries()) {
    const field = `http.tokens[${i}].${t.env ? "env" : "sha256Env"}`;
    const name = (t.env ?? t.sha256Env) as string;
    const value = env[name]?.trim();
    const bad = (message: string) =>
      issues.push({ field, message: `${name} ${message}`, code: "VALIDATION" });
    if (!value) {
      bad(`is not set (the token of '${t.name}')`);
      continue;
    }
    if (t.env) {
      if (value.length < MIN_TOKEN_LENGTH)
        bad(`must hold at least ${MIN_TOKEN_LENGTH} characters (openssl rand -base64 32)`);
      else if (value.length > 1024) bad("must hold at most 1024 characters");
      else if (seen.has(value)) bad("holds the same token as another entry");
      else specs.push({ name: t.name, role: t.role, token: value });
      seen.add(value);
    } else if (!SHA256_HEX.test(value)) {
      bad('must hold a SHA-256 digest in hex (64 characters: printf %s "$TOKEN" | sha256sum)');
    } else {
      specs.push({ name: t.name, role: t.role, sha256: value.toLowerCase() });
    }
  }
  if (issues.length > 0) throw new ConfigError(file, issues);
  return specs;
}

/** Roles in the order a command prefers them: the least that can do what it does. */
const PREFERENCE = {
  read: ["viewer", "operator", "admin"],
  operate: ["operator", "admin"],
} as const;

/**
 * A token of the config for commands on this machine, when the environment holds one (the same
 * `tradecron.env` as the service): the least role that can do what the command does (`read`: a
 * viewer's, else an operator's, else an admin's; `operate`: an operator's, else an admin's).
 */
export function tokenFromConfig(
  http: ResolvedHttp | null,
  env: Readonly<Record<string, string | undefined>>,
  need: keyof typeof PREFERENCE,
): string | null {
  if (!http) return null;
  for (const role of PREFERENCE[need]) {
    for (const t of http.tokens) {
      const value = t.role === role && t.env ? env[t.env]?.trim() : undefined;
      if (value && value.length >= MIN_TOKEN_LENGTH) return value;
    }
  }
  return null;
}
