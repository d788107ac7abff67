/**
 * The process-wide calendar registry. Built-in calendars are created on first use and shared:
 * every alias of a calendar (NYSE, NASDAQ and XNAS for XNYS) returns the same instance, so an
 * override added through one name is seen through all of them.
 */

import { z } from "zod";
import { ConflictError } from "../errors.js";
import { parseInput } from "../validation.js";
import {
  type CalendarDefinition,
  type CalendarDefinitionInput,
  calendarCodeSchema,
} from "./calendar-definition.js";
import { invalid } from "./calendar-input.js";
import type { MarketCalendar } from "./market-calendar.js";
import { createCalendar } from "./rule-calendar.js";
import { XLON_DEFINITION } from "./xlon.js";
import { XNYS_DEFINITION } from "./xnys.js";

const COMPONENT = "calendar registry";

/** What {@link listCalendars} reports about each calendar. */
export interface CalendarInfo {
  readonly code: string;
  readonly name: string;
  readonly timezone: string;
  readonly dataVersion: string;
  readonly firstDate: string;
  readonly lastDate: string;
  /** Other codes that resolve to this calendar. */
  readonly aliases: readonly string[];
}

/** Options of {@link registerCalendar}. */
export interface RegisterCalendarOptions {
  /** More codes that resolve to the calendar. */
  aliases?: readonly string[];
  /** Replace a calendar or alias already registered under one of the codes. Default false. */
  replace?: boolean;
}

interface Entry {
  calendar: MarketCalendar | undefined;
  readonly create: () => MarketCalendar;
}

const entries = new Map<string, Entry>();
const aliasOf = new Map<string, string>();

function builtIn(definition: CalendarDefinition, aliases: readonly string[]): void {
  entries.set(definition.code, { calendar: undefined, create: () => createCalendar(definition) });
  for (const alias of aliases) aliasOf.set(alias, definition.code);
}

// NASDAQ keeps the NYSE holidays, early closes and emergency closures, so it shares the sessions.
// (The NYSE floor's one-off late opens of the 1990s are kept too: an approximation for NASDAQ.)
builtIn(XNYS_DEFINITION, ["NYSE", "NASDAQ", "XNAS"]);
builtIn(XLON_DEFINITION, ["LSE"]);

function resolve(code: string): Entry | undefined {
  const upper = code.trim().toUpperCase();
  return entries.get(aliasOf.get(upper) ?? upper);
}

function instance(entry: Entry): MarketCalendar {
  entry.calendar ??= entry.create();
  return entry.calendar;
}

/** True if `code` (or an alias) names a registered calendar. Case-insensitive. */
export function hasCalendar(code: string): boolean {
  return typeof code === "string" && resolve(code) !== undefined;
}

/**
 * The calendar registered under `code` or one of its aliases (case-insensitive): XNYS (NYSE,
 * NASDAQ, XNAS), XLON (LSE), and any registered custom calendar. Unknown codes throw a
 * ValidationError naming `code`.
 */
export function getCalendar(code: string): MarketCalendar {
  const entry = typeof code === "string" ? resolve(code) : undefined;
  if (entry) return instance(entry);
  parseInput(z.string({ error: "expected a calendar code string" }), code, COMPONENT, "code");
  const known = [...entries.keys(), ...aliasOf.keys()].sort().join(", ");
  throw invalid("code", `unknown calendar '${code}' (known: ${known})`, COMPONENT);
}

/**
 * Registers a custom calendar: a {@link MarketCalendar} of your own, or a definition that
 * {@link createCalendar} turns into one. Codes are case-insensitive and stored upper case.
 * Registering over an existing code or alias throws a ConflictError unless `replace` is set.
 */
export function registerCalendar(
  calendar: MarketCalendar | CalendarDefinitionInput,
  options: RegisterCalendarOptions = {},
): MarketCalendar {
  const instanceGiven = typeof (calendar as MarketCalendar).isOpen === "function";
  const built = instanceGiven
    ? (calendar as MarketCalendar)
    : createCalendar(calendar as CalendarDefinitionInput);
  const code = parseInput(calendarCodeSchema, built.code, COMPONENT, "code");
  const aliases = (options.aliases ?? []).map((alias, i) =>
    parseInput(calendarCodeSchema, alias, COMPONENT, `aliases.${i}`),
  );
  if (!options.replace) {
    for (const name of [code, ...aliases]) {
      if (entries.has(name) || aliasOf.has(name)) {
        throw new ConflictError("CONFLICT", `${COMPONENT}: calendar code '${name}' is already registered`, {
          field: name === code ? "code" : "aliases",
        });
      }
    }
  }
  aliasOf.delete(code);
  entries.set(code, { calendar: built, create: () => built });
  for (const alias of aliases) {
    entries.delete(alias);
    aliasOf.set(alias, code);
  }
  return built;
}

/** Every registered calendar, by code, with its aliases. Creates built-ins on first call. */
export function listCalendars(): CalendarInfo[] {
  return [...entries.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, entry]) => {
      const calendar = instance(entry);
      return {
        code,
        name: calendar.name,
        timezone: calendar.timezone,
        dataVersion: calendar.dataVersion,
        firstDate: calendar.firstDate,
        lastDate: calendar.lastDate,
        aliases: [...aliasOf.entries()]
          .filter(([, target]) => target === code)
          .map(([alias]) => alias)
          .sort(),
      };
    });
}
