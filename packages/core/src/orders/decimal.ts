/**
 * Exact decimal amounts. Quantities and prices cross the API as strings (or numbers, read through
 * their shortest decimal form) and are computed with decimal.js, so nothing that reaches a broker
 * carries binary floating-point drift (0.1 + 0.2 is 0.3 here).
 */

// The named export, not the default one: decimal.js types its package as CommonJS, so under
// `moduleResolution: NodeNext` an ESM consumer's default import is the whole module object (not
// constructable, no `Decimal.Value`). The named export is the class in ESM, CJS and every resolver.
import { Decimal } from "decimal.js";
import { z } from "zod";
import { addIssue } from "../validation.js";

/**
 * decimal.js's arbitrary-precision decimal (re-exported, so amounts from tradecron and your own
 * arithmetic share one class): `new Decimal("0.1").plus("0.2").toString() === "0.3"`.
 * `Decimal.Value` is what it accepts: a string, a number or another Decimal.
 */
export { Decimal };

const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;

/** The canonical string of a decimal: no exponent, no trailing zeros after the point. */
export function decimalString(value: Decimal.Value): string {
  const d = new Decimal(value);
  return d.isZero() ? "0" : d.toFixed();
}

/** A decimal amount input (string or finite number) parsed to its canonical string. */
export const decimalSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : value.trim();
  if (typeof value === "number" && !Number.isFinite(value)) {
    addIssue(ctx, "VALIDATION", "must be a finite number");
    return z.NEVER;
  }
  if (!DECIMAL.test(text) && !(typeof value === "number" && /e/i.test(text))) {
    addIssue(ctx, "VALIDATION", `'${String(value)}' is not a decimal number`);
    return z.NEVER;
  }
  return decimalString(text);
});

/** A strictly positive decimal amount. */
export const positiveDecimalSchema = decimalSchema.refine((v) => new Decimal(v).gt(0), {
  message: "must be greater than 0",
  params: { code: "VALIDATION" },
});
