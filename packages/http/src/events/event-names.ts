/**
 * The scheduler's event names as streamed by `/events`: core's own run-time list, so a new event
 * in core is streamed without a change here.
 */

export { SCHEDULER_EVENT_NAMES } from "@tradecron/core";
