/** The standalone host's building blocks, for reuse in your own process. */

export { printEvents } from "./event-log.js";
export { startHealthServer } from "./health-server.js";
export { DEFAULT_SCHEDULES, ensureSchedules, type Host, type HostOptions, startHost } from "./host.js";
export { type JobBehaviour, registerJobs } from "./jobs.js";
export { keepStatusFile, statusSnapshot, writeJsonAtomic } from "./status-file.js";
