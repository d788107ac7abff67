/**
 * Local calendar dates ('YYYY-MM-DD') as epoch day numbers, for cadence arithmetic. Core keeps
 * its own civil-date helpers internal; these few are all the cadence planner needs.
 */

import { toLocal } from "@tradecron/core";

const DAY_MS = 86_400_000;

/** Epoch day of a 'YYYY-MM-DD' date (no validation: callers pass parsed dates). */
export function dayOf(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/** 'YYYY-MM-DD' of an epoch day. */
export function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** The date `n` calendar days after `date` (before, for negative `n`). */
export function addDays(date: string, n: number): string {
  return dateOf(dayOf(date) + n);
}

/** The Monday of the ISO week (Monday to Sunday) that contains `date`. */
export function mondayOf(date: string): string {
  return addDays(date, -((weekdayOf(date) + 6) % 7));
}

/** Year and month (1-12) of a date. */
export function monthOf(date: string): { year: number; month: number } {
  return { year: Number(date.slice(0, 4)), month: Number(date.slice(5, 7)) };
}

/** Number of days in a month (1-12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 'YYYY-MM-DD' from parts (month 1-12). */
export function formatDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The local date of `instant` in `timezone`. */
export function localDate(timezone: string, instant: number): string {
  return new Date(toLocal(timezone, instant)).toISOString().slice(0, 10);
}

/** Local hour and minute of `instant` in `timezone`. */
export function localClock(timezone: string, instant: number): { hour: number; minute: number } {
  const d = new Date(toLocal(timezone, instant));
  return { hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}
