export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health verdict: 200 when healthy or degraded, 503 when unhealthy, with reasons */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** State, counters, and per-schedule last and next fire */
        get: operations["getStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/catalog": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Registered jobs and known calendars (what a new schedule may name) */
        get: operations["getCatalog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/auth/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Who the caller is (and, for a session, its CSRF token) */
        get: operations["getSession"];
        put?: never;
        /** Exchange a token for an HttpOnly SameSite=Strict session cookie (the dashboard's sign-in) */
        post: operations["signIn"];
        /** End the dashboard session */
        delete: operations["signOut"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List schedules (filters: tag, job, enabled, paused; cursor pages by id) */
        get: operations["listSchedules"];
        put?: never;
        /** Create a schedule */
        post: operations["createSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One schedule with its next fire (and, when paused, the next fire once resumed) */
        get: operations["getSchedule"];
        put?: never;
        post?: never;
        /** Delete a schedule (its history stays) */
        delete: operations["deleteSchedule"];
        options?: never;
        head?: never;
        /** Update a schedule (with expectedRevision: only if nobody changed it since) */
        patch: operations["updateSchedule"];
        trace?: never;
    };
    "/schedules/{id}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause one schedule */
        post: operations["pauseSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume one schedule */
        post: operations["resumeSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}/trigger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run a schedule now (a manual fire, audited with the caller) */
        post: operations["triggerSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}/backfill": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run the schedule's fires of a past window now (fires already run are left alone) */
        post: operations["backfillSchedule"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/schedules/{id}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The next N fires, with the ones that would be skipped and why */
        get: operations["previewSchedule"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The next N fires of a schedule not saved yet (for a create form) */
        post: operations["previewInput"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/executions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List executions, newest first (filters: schedule, status, kind, time window) */
        get: operations["listExecutions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/executions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One execution: attempts, error, result, and the orders and approvals of its fire */
        get: operations["getExecution"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals/pending-count": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Number of approvals waiting for a decision (the badge) */
        get: operations["countPendingApprovals"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List approvals, newest first (filters: status, risk level, schedule) */
        get: operations["listApprovals"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One approval with its intent, rationale and supporting data */
        get: operations["getApproval"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve one pending order (risk re-checked, then submitted) */
        post: operations["approveApproval"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals/{id}/reject": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reject one pending order */
        post: operations["rejectApproval"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve many pending orders; one result per id, in order */
        post: operations["approveApprovals"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approvals/reject": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reject many pending orders; one result per id, in order */
        post: operations["rejectApprovals"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approval-groups/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One approval group: its members in proposal order and its derived status */
        get: operations["getApprovalGroup"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approval-groups/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve every order of a group at once, then submit them in order (each risk re-checked) */
        post: operations["approveApprovalGroup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/approval-groups/{id}/reject": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reject every order of a group at once */
        post: operations["rejectApprovalGroup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/orders": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Orders placed through the scheduler, newest first */
        get: operations["listOrders"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/orders/{clientOrderId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One order by its client order id */
        get: operations["getOrder"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit log, newest first: who did what, when and why */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/broker/account": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The broker account (404 BROKER_NOT_CONFIGURED without a broker) */
        get: operations["getAccount"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/broker/positions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Open positions at the broker */
        get: operations["listPositions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The emergency switch and the instance's state */
        get: operations["getControls"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls/pause-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Emergency pause of every schedule on every instance (persisted), with a reason */
        post: operations["pauseAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls/resume-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Lift the emergency pause; missed fires follow each schedule's misfire policy */
        post: operations["resumeAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start the scheduler instance (only where the host allows lifecycle control; 403 LIFECYCLE_DISABLED otherwise) */
        post: operations["startScheduler"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls/stop": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Stop the scheduler instance (running handlers get timeoutMs to finish) (only where the host allows lifecycle control; 403 LIFECYCLE_DISABLED otherwise) */
        post: operations["stopScheduler"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause this instance (not persisted) (only where the host allows lifecycle control; 403 LIFECYCLE_DISABLED otherwise) */
        post: operations["pauseScheduler"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/controls/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume this instance (only where the host allows lifecycle control; 403 LIFECYCLE_DISABLED otherwise) */
        post: operations["resumeScheduler"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server-sent events of the scheduler (ids for Last-Event-ID resume, heartbeat comments) */
        get: operations["streamEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["getOpenApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description Plain JSON data (objects, arrays, strings, finite numbers, booleans, null), at most 64 KiB */
        JsonData: unknown;
        Health: {
            /** @enum {string} */
            status: "healthy" | "degraded" | "unhealthy";
            reasons?: string[];
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            checkedAt: string;
        };
        /** @description RFC 9457 problem details */
        Problem: {
            type: string;
            title: string;
            status: number;
            detail: string;
            instance?: string;
            /** @description The SDK error's stable code */
            code: string;
            /** @description The input field at fault */
            field?: string;
            errors?: {
                field: string;
                message: string;
                code: string;
            }[];
        };
        Status: {
            /** @enum {string} */
            state: "stopped" | "starting" | "running" | "paused" | "stopping";
            instanceId: string;
            storage: string;
            pausedAll: boolean;
            pausedAllBy: string | null;
            pausedAllReason: string | null;
            startedAt: string | null;
            uptimeMs: number;
            heartbeatAt: string | null;
            counters: {
                fires: number;
                runs: number;
                succeeded: number;
                failed: number;
                timedOut: number;
                cancelled: number;
                skipped: number;
                retries: number;
                missed: number;
                takenOver: number;
                ordersSubmitted: number;
                ordersRejected: number;
            };
            approvalsPending: number;
            broker: {
                name: string;
                connected: boolean;
            } | null;
            schedules: {
                id: string;
                name: string;
                job: string;
                enabled: boolean;
                paused: boolean;
                handled: boolean;
                nextFireAt: string | null;
                lastStartAt: string | null;
                lastEndAt: string | null;
                lastStatus: ("claimed" | "running" | "succeeded" | "failed" | "timed_out" | "skipped" | "cancelled") | null;
                lastSuccessAt: string | null;
                running: number;
            }[];
        };
        Catalog: {
            jobs: string[];
            calendars: {
                code: string;
                name: string;
                timezone: string;
            }[];
        };
        SessionInfo: {
            name: string;
            /** @enum {string} */
            role: "viewer" | "operator" | "admin";
            /** @enum {string} */
            via: "bearer" | "session" | "none";
            /** @description Send as X-CSRF-Token on every mutation (session only) */
            csrfToken?: string;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            expiresAt?: string;
        };
        SchedulePage: {
            items: components["schemas"]["Schedule"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        Schedule: {
            id: string;
            name: string;
            job: string;
            description: string | null;
            tags: string[];
            trigger: components["schemas"]["Trigger"];
            data: components["schemas"]["JsonValue"] | null;
            enabled: boolean;
            paused: boolean;
            misfire: {
                /** @enum {string} */
                policy: "skip" | "run_once" | "run_all";
                toleranceMs: number;
                graceMs: number;
                windowMs: number;
                maxRuns: number;
            };
            /** @enum {string} */
            overlap: "skip" | "buffer_one" | "buffer_all" | "cancel_previous" | "allow";
            retry: {
                attempts: number;
                backoff: {
                    baseMs: number;
                    factor: number;
                    maxMs: number;
                    jitter: number;
                };
                nonRetryable: string[];
            };
            timeoutMs: number | null;
            requiresApproval: boolean;
            approvalExpiryMs: number | null;
            risk: {
                [key: string]: components["schemas"]["JsonValue"];
            } | null;
            requireBrokerConnection: boolean;
            marketHoursOnly: boolean;
            calendar: string;
            /** @description The schedule's own retention of its final executions (null: the scheduler's policy); a null field switches that limit off */
            retention: {
                maxAgeMs?: number | null;
                keepLast?: number | null;
            } | null;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            firesSince: string;
            revision: number;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            updatedAt: string;
            state: components["schemas"]["ScheduleState"];
        };
        Trigger: {
            /** @constant */
            type: "cron";
            expression: string;
            timezone: string;
        } | {
            /** @constant */
            type: "interval";
            every: number;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            anchor: string;
            jitter: number;
        } | {
            /** @constant */
            type: "once";
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            at: string;
        } | {
            /** @constant */
            type: "market";
            calendar: string;
            /** @enum {string} */
            event: "open" | "close";
            offsetMinutes: number;
            days: "every" | number[];
            rule: string;
        };
        /** @description Any JSON value */
        JsonValue: unknown;
        ScheduleState: {
            handled: boolean;
            /** @description Next fire; null while paused, disabled or paused-all */
            nextFireAt: string | null;
            /** @description While paused: the first fire that would run once resumed */
            nextFireOnceResumedAt: string | null;
            lastStartAt: string | null;
            lastEndAt: string | null;
            lastStatus: ("claimed" | "running" | "succeeded" | "failed" | "timed_out" | "skipped" | "cancelled") | null;
            lastSuccessAt: string | null;
            running: number;
            counters: {
                fires: number;
                succeeded: number;
                failed: number;
                skipped: number;
                retries: number;
            };
        };
        Execution: {
            id: string;
            scheduleId: string;
            job: string;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            scheduledAt: string;
            /** @enum {string} */
            kind: "scheduled" | "catchup" | "manual" | "backfill";
            /** @enum {string} */
            status: "claimed" | "running" | "succeeded" | "failed" | "timed_out" | "skipped" | "cancelled";
            reason: string | null;
            attempts: number;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            claimedAt: string;
            startedAt: string | null;
            endedAt: string | null;
            instanceId: string;
            leaseExpiresAt: string | null;
            actor: string | null;
            error: components["schemas"]["ErrorInfo"] | null;
            result: components["schemas"]["JsonValue"] | null;
            details: components["schemas"]["JsonValue"] | null;
            idempotencyKey: string;
        };
        ErrorInfo: {
            message: string;
            code: string | null;
            name: string;
        };
        BackfillResult: {
            fires: number;
            ran: number;
            alreadyClaimed: number;
            executions: components["schemas"]["Execution"][];
        };
        Preview: {
            fires: components["schemas"]["PreviewFire"][];
        };
        PreviewFire: {
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            at: string;
            /** @description Wall time in the schedule's zone, YYYY-MM-DD HH:mm:ss */
            local: string;
            /** @description Why it would be skipped (market_closed, paused, ...); null: it runs */
            skip: string | null;
            /** @description The calendar's reason alone, also while paused: what the fire does once resumed; null: it runs */
            marketSkip: string | null;
            /** @description The holiday, early close or session hours behind a market_closed skip */
            skipDetail: string | null;
        };
        ExecutionPage: {
            items: components["schemas"]["Execution"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        ExecutionDetail: {
            execution: components["schemas"]["Execution"];
            orders: components["schemas"]["Order"][];
            approvals: components["schemas"]["Approval"][];
        };
        Order: {
            clientOrderId: string;
            brokerOrderId: string | null;
            broker: string;
            scheduleId: string | null;
            executionId: string | null;
            approvalId: string | null;
            symbol: string;
            /** @enum {string} */
            side: "buy" | "sell";
            intent: components["schemas"]["JsonValue"];
            status: string;
            filledQty: string;
            avgFillPrice: string | null;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            submittedAt: string;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            updatedAt: string;
            error: components["schemas"]["ErrorInfo"] | null;
        };
        Approval: {
            id: string;
            scheduleId: string;
            executionId: string;
            fireKey: string;
            intentIndex: number;
            clientOrderId: string;
            intent: components["schemas"]["JsonValue"];
            /** @enum {string} */
            status: "pending" | "approved" | "rejected" | "expired" | "submitted" | "failed";
            /** @enum {string} */
            riskLevel: "low" | "medium" | "high";
            rationale: string | null;
            confidence: number | null;
            supportingData: components["schemas"]["JsonValue"] | null;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            expiresAt: string;
            decidedAt: string | null;
            decidedBy: string | null;
            decisionReason: string | null;
            brokerOrderId: string | null;
            error: components["schemas"]["ErrorInfo"] | null;
            /** @description The approval group it is decided with (absent: proposed on its own) */
            groupId?: string;
        };
        PendingCount: {
            pending: number;
        };
        ApprovalPage: {
            items: components["schemas"]["Approval"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        DecisionResult: {
            id: string;
            ok: boolean;
            status: ("pending" | "approved" | "rejected" | "expired" | "submitted" | "failed") | null;
            code?: string;
            reason?: string;
            brokerOrderId?: string | null;
        };
        DecisionResults: {
            results: components["schemas"]["DecisionResult"][];
        };
        ApprovalGroup: {
            id: string;
            scheduleId: string;
            executionId: string;
            fireKey: string;
            /**
             * @description Derived from the members': pending while all wait; approved once approved (members then approved, submitted or failed); rejected or expired when all are; mixed otherwise
             * @enum {string}
             */
            status: "pending" | "approved" | "rejected" | "expired" | "mixed";
            /**
             * @description The highest of its members
             * @enum {string}
             */
            riskLevel: "low" | "medium" | "high";
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            expiresAt: string;
            decidedAt: string | null;
            decidedBy: string | null;
            decisionReason: string | null;
            /** @description Members by status */
            counts: {
                [key: string]: number;
            };
            /** @description In proposal order */
            members: components["schemas"]["Approval"][];
        };
        GroupDecision: {
            group: components["schemas"]["ApprovalGroup"];
            results: components["schemas"]["DecisionResult"][];
        };
        OrderPage: {
            items: components["schemas"]["Order"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        AuditPage: {
            items: components["schemas"]["AuditEntry"][];
            /** @description Pass as `cursor` for the next page; null at the end */
            nextCursor: string | null;
        };
        AuditEntry: {
            seq: number;
            /**
             * Format: date-time
             * @description An instant, ISO 8601 in UTC
             * @example 2026-01-05T14:30:00.000Z
             */
            at: string;
            actor: string;
            action: string;
            subjectType: string;
            subjectId: string | null;
            details: components["schemas"]["JsonValue"] | null;
        };
        Account: {
            broker: string;
            connected: boolean;
            id: string;
            currency: string;
            cash: string;
            buyingPower: string;
            equity: string;
            status: string;
        };
        Positions: {
            broker: string;
            items: components["schemas"]["Position"][];
        };
        Position: {
            symbol: string;
            qty: string;
            /** @enum {string} */
            side: "long" | "short";
            avgEntryPrice: string;
            marketValue: string | null;
        };
        Controls: {
            pausedAll: boolean;
            pausedAt: string | null;
            pausedBy: string | null;
            reason: string | null;
            revision: number;
            /** @enum {string} */
            state: "stopped" | "starting" | "running" | "paused" | "stopping";
            /** @description Whether the host allows start/stop/pause/resume here */
            lifecycleControl: boolean;
        };
        PauseAllResult: {
            pausedAll: boolean;
            pausedAt: string | null;
            pausedBy: string | null;
            reason: string | null;
            revision: number;
            /** @enum {string} */
            state: "stopped" | "starting" | "running" | "paused" | "stopping";
            /** @description Whether the host allows start/stop/pause/resume here */
            lifecycleControl: boolean;
            cancelledOrders: {
                cancelled: number;
                failed: {
                    id: string;
                    error: string;
                }[];
            } | null;
        };
        EventEnvelope: {
            /** @description Also the SSE id: send it back as Last-Event-ID to resume */
            id: string;
            /** @description The scheduler event (run:succeeded, approval:requested, ...), or stream:open / stream:reset */
            type: string;
            /** Format: date-time */
            at: string;
            data: {
                [key: string]: unknown;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Healthy or degraded */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unhealthy */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getStatus: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Status"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getCatalog: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The catalog */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Catalog"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSession: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionInfo"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    signIn: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token: string;
                };
            };
        };
        responses: {
            /** @description Signed in; the cookie is set */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionInfo"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    signOut: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description Signed out; the cookie is cleared */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listSchedules: {
        parameters: {
            query?: {
                /** @description Any of these tags (comma-separated) */
                tag?: string;
                job?: string;
                enabled?: "true" | "false";
                paused?: "true" | "false";
                /** @description Page size, 1-500 (default 50) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of schedules */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SchedulePage"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    id?: string;
                    name?: string;
                    job: string;
                    description?: string | null;
                    tags?: string[];
                    trigger: {
                        /** @constant */
                        type: "cron";
                        expression: string;
                        /** @default UTC */
                        timezone?: string;
                    } | {
                        /** @constant */
                        type: "interval";
                        every: number | string;
                        anchor?: string | number;
                        jitter?: number | string;
                    } | {
                        /** @constant */
                        type: "once";
                        at: string | number;
                    } | {
                        /** @constant */
                        type: "market";
                        calendar: string;
                        /** @enum {string} */
                        event: "open" | "close";
                        /** @default 0 */
                        offsetMinutes?: number;
                        days?: "every" | number[];
                        /**
                         * @default every_session
                         * @enum {string}
                         */
                        rule?: "every_session" | "first_of_week" | "last_of_week" | "first_of_month" | "last_of_month";
                    };
                    data?: components["schemas"]["JsonData"] | null;
                    enabled?: boolean;
                    misfire?: ("skip" | "run_once" | "run_all") | {
                        [key: string]: unknown;
                    };
                    /** @enum {string} */
                    overlap?: "skip" | "buffer_one" | "buffer_all" | "cancel_previous" | "allow";
                    retry?: number | {
                        [key: string]: unknown;
                    };
                    timeout?: number | string | null;
                    requiresApproval?: boolean;
                    approvalExpiry?: number | string | null;
                    risk?: {
                        maxOrderNotional?: string | number;
                        maxDailyNotional?: string | number;
                        maxOpenPositions?: number;
                        maxOpenOrders?: number;
                        minConfidence?: number;
                        allowSymbols?: string[];
                        denySymbols?: string[];
                        marketHoursOnly?: boolean;
                        requireBrokerConnection?: boolean;
                        /** @enum {string} */
                        maxRiskLevel?: "low" | "medium" | "high";
                    } | null;
                    requireBrokerConnection?: boolean;
                    marketHoursOnly?: boolean;
                    calendar?: string;
                    retention?: {
                        maxAge?: number | string | null;
                        keepLast?: number | null;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string;
                    job?: string;
                    description?: string | null;
                    tags?: string[];
                    trigger?: {
                        /** @constant */
                        type: "cron";
                        expression: string;
                        /** @default UTC */
                        timezone?: string;
                    } | {
                        /** @constant */
                        type: "interval";
                        every: number | string;
                        anchor?: string | number;
                        jitter?: number | string;
                    } | {
                        /** @constant */
                        type: "once";
                        at: string | number;
                    } | {
                        /** @constant */
                        type: "market";
                        calendar: string;
                        /** @enum {string} */
                        event: "open" | "close";
                        /** @default 0 */
                        offsetMinutes?: number;
                        days?: "every" | number[];
                        /**
                         * @default every_session
                         * @enum {string}
                         */
                        rule?: "every_session" | "first_of_week" | "last_of_week" | "first_of_month" | "last_of_month";
                    };
                    data?: components["schemas"]["JsonData"] | null;
                    enabled?: boolean;
                    misfire?: ("skip" | "run_once" | "run_all") | {
                        [key: string]: unknown;
                    };
                    /** @enum {string} */
                    overlap?: "skip" | "buffer_one" | "buffer_all" | "cancel_previous" | "allow";
                    retry?: number | {
                        [key: string]: unknown;
                    };
                    timeout?: number | string | null;
                    requiresApproval?: boolean;
                    approvalExpiry?: number | string | null;
                    risk?: {
                        maxOrderNotional?: string | number;
                        maxDailyNotional?: string | number;
                        maxOpenPositions?: number;
                        maxOpenOrders?: number;
                        minConfidence?: number;
                        allowSymbols?: string[];
                        denySymbols?: string[];
                        marketHoursOnly?: boolean;
                        requireBrokerConnection?: boolean;
                        /** @enum {string} */
                        maxRiskLevel?: "low" | "medium" | "high";
                    } | null;
                    requireBrokerConnection?: boolean;
                    marketHoursOnly?: boolean;
                    calendar?: string;
                    retention?: {
                        maxAge?: number | string | null;
                        keepLast?: number | null;
                    } | null;
                    /** @description Apply only if the schedule is still at this revision (409 otherwise) */
                    expectedRevision?: number;
                };
            };
        };
        responses: {
            /** @description The updated schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The paused schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The resumed schedule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Schedule"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    triggerSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Answer when the run has ended (default false: when it is claimed) */
                    wait?: boolean;
                };
            };
        };
        responses: {
            /** @description The run has ended (wait: true) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Execution"];
                };
            };
            /** @description The fire is claimed and runs */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Execution"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    backfillSchedule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    from: string | number;
                    to: string | number;
                    maxFires?: number;
                };
            };
        };
        responses: {
            /** @description What ran */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BackfillResult"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    previewSchedule: {
        parameters: {
            query?: {
                /** @description How many fires (default 10) */
                count?: string;
                from?: string;
            };
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The coming fires */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Preview"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    previewInput: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    schedule: {
                        id?: string;
                        name?: string;
                        job: string;
                        description?: string | null;
                        tags?: string[];
                        trigger: {
                            /** @constant */
                            type: "cron";
                            expression: string;
                            /** @default UTC */
                            timezone?: string;
                        } | {
                            /** @constant */
                            type: "interval";
                            every: number | string;
                            anchor?: string | number;
                            jitter?: number | string;
                        } | {
                            /** @constant */
                            type: "once";
                            at: string | number;
                        } | {
                            /** @constant */
                            type: "market";
                            calendar: string;
                            /** @enum {string} */
                            event: "open" | "close";
                            /** @default 0 */
                            offsetMinutes?: number;
                            days?: "every" | number[];
                            /**
                             * @default every_session
                             * @enum {string}
                             */
                            rule?: "every_session" | "first_of_week" | "last_of_week" | "first_of_month" | "last_of_month";
                        };
                        data?: components["schemas"]["JsonData"] | null;
                        enabled?: boolean;
                        misfire?: ("skip" | "run_once" | "run_all") | {
                            [key: string]: unknown;
                        };
                        /** @enum {string} */
                        overlap?: "skip" | "buffer_one" | "buffer_all" | "cancel_previous" | "allow";
                        retry?: number | {
                            [key: string]: unknown;
                        };
                        timeout?: number | string | null;
                        requiresApproval?: boolean;
                        approvalExpiry?: number | string | null;
                        risk?: {
                            maxOrderNotional?: string | number;
                            maxDailyNotional?: string | number;
                            maxOpenPositions?: number;
                            maxOpenOrders?: number;
                            minConfidence?: number;
                            allowSymbols?: string[];
                            denySymbols?: string[];
                            marketHoursOnly?: boolean;
                            requireBrokerConnection?: boolean;
                            /** @enum {string} */
                            maxRiskLevel?: "low" | "medium" | "high";
                        } | null;
                        requireBrokerConnection?: boolean;
                        marketHoursOnly?: boolean;
                        calendar?: string;
                        retention?: {
                            maxAge?: number | string | null;
                            keepLast?: number | null;
                        } | null;
                    };
                    count?: number;
                    from?: string | number;
                };
            };
        };
        responses: {
            /** @description The coming fires */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Preview"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listExecutions: {
        parameters: {
            query?: {
                scheduleId?: string;
                /** @description Comma-separated statuses */
                status?: string;
                /** @description Comma-separated kinds */
                kind?: string;
                /** @description scheduledAt at or after (ISO 8601) */
                from?: string;
                /** @description scheduledAt before (ISO 8601) */
                to?: string;
                /** @description Page size, 1-1000 (default 50) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of executions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecutionPage"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getExecution: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The execution */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExecutionDetail"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    countPendingApprovals: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The count */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PendingCount"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listApprovals: {
        parameters: {
            query?: {
                status?: string;
                riskLevel?: string;
                scheduleId?: string;
                /** @description Members of this approval group only */
                groupId?: string;
                /** @description Page size, 1-1000 (default 50) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of approvals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApprovalPage"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The approval */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Approval"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    approveApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Why (written to the audit log) */
                    reason?: string;
                };
            };
        };
        responses: {
            /** @description Decided */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DecisionResult"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    rejectApproval: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Why (written to the audit log) */
                    reason?: string;
                };
            };
        };
        responses: {
            /** @description Decided */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DecisionResult"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    approveApprovals: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    ids: string[];
                    /** @description Why (written to the audit log) */
                    reason?: string;
                };
            };
        };
        responses: {
            /** @description Per-item results */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DecisionResults"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    rejectApprovals: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    ids: string[];
                    /** @description Why (written to the audit log) */
                    reason?: string;
                };
            };
        };
        responses: {
            /** @description Per-item results */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DecisionResults"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getApprovalGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The group */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApprovalGroup"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    approveApprovalGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Why (written to the audit log) */
                    reason?: string;
                };
            };
        };
        responses: {
            /** @description Decided: the group and one result per member */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GroupDecision"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    rejectApprovalGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The id */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Why (written to the audit log) */
                    reason?: string;
                };
            };
        };
        responses: {
            /** @description Decided: the group and one result per member */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["GroupDecision"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listOrders: {
        parameters: {
            query?: {
                scheduleId?: string;
                executionId?: string;
                symbol?: string;
                status?: string;
                from?: string;
                to?: string;
                /** @description Page size, 1-1000 (default 50) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of orders */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OrderPage"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOrder: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                clientOrderId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The order */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Order"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listAudit: {
        parameters: {
            query?: {
                actor?: string;
                action?: string;
                subjectType?: string;
                subjectId?: string;
                from?: string;
                to?: string;
                /** @description Page size, 1-1000 (default 50) */
                limit?: string;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of audit entries */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPage"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAccount: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The account */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listPositions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The positions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Positions"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getControls: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The controls */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Controls"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseAll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Why (written to the audit log) */
                    reason?: string;
                    /** @description Also cancel every open order at the broker */
                    cancelOpenOrders?: boolean;
                    /** @description Also abort handlers in progress */
                    abortRunning?: boolean;
                };
            };
        };
        responses: {
            /** @description Paused */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PauseAllResult"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeAll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description Resumed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Controls"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    startScheduler: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The controls after the change */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Controls"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    stopScheduler: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    timeoutMs?: number;
                };
            };
        };
        responses: {
            /** @description The controls after the change */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Controls"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    pauseScheduler: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The controls after the change */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Controls"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    resumeScheduler: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            /** @description The controls after the change */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Controls"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Rate limit of the caller's token exceeded */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    streamEvents: {
        parameters: {
            query?: {
                /** @description Same as the Last-Event-ID header */
                lastEventId?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An event stream; each data line is an EventEnvelope */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["EventEnvelope"];
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description No or unknown credentials */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The caller's role may not do this, or the CSRF token is missing */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getOpenApi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
            /** @description An error, as RFC 9457 problem details with the SDK error's code and field */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
