/**
 * Market calendars: sessions, holidays, early closes and one-off closures of XNYS and XLON (and
 * calendars you register), run-time overrides, and the market-relative trigger.
 *
 * @packageDocumentation
 */

export {
  type CalendarDefinition,
  type CalendarDefinitionInput,
  calendarCodeSchema,
  calendarDefinitionSchema,
  type TradingHours,
} from "./calendar-definition.js";
export { calendarDateSchema, clockTimeSchema } from "./calendar-input.js";
export { easterSunday } from "./easter.js";
export {
  type DateRule,
  type EarlyCloseRule,
  easterOffset,
  fixedDate,
  type HolidayRule,
  nthWeekday,
  type Observance,
  shifted,
  weekdayOnOrBefore,
} from "./holiday-rules.js";
export type { CalendarOverride, DayInfo, MarketCalendar, Session } from "./market-calendar.js";
export {
  type MarketDayRule,
  type MarketTriggerInput,
  type MarketTriggerSpec,
  marketTrigger,
  marketTriggerSpecSchema,
} from "./market-trigger.js";
export {
  type CalendarInfo,
  getCalendar,
  hasCalendar,
  listCalendars,
  type RegisterCalendarOptions,
  registerCalendar,
} from "./registry.js";
export { createCalendar } from "./rule-calendar.js";
export {
  SPECIAL_DAYS_DATA_VERSION,
  type SpecialDay,
  XLON_SPECIAL_DAYS,
  XNYS_SPECIAL_DAYS,
} from "./special-days.js";
export { XLON_DEFINITION, XLON_EARLY_CLOSES, XLON_HOLIDAYS } from "./xlon.js";
export { XNYS_DEFINITION, XNYS_EARLY_CLOSES, XNYS_HOLIDAYS } from "./xnys.js";
