/**
 * Approvals, orders and the audit log: human-scale collections (a few per fire that proposes
 * orders, a few per person's action), held in memory and persisted as JSON Lines change logs with
 * group commit (`approvals.jsonl`, `orders.jsonl`, `audit.jsonl`).
 *
 * A change log line is `{"op":"put","rec":{...}}` or, for an all-or-nothing batch,
 * `{"op":"put","recs":[...]}` (one line, so a crash keeps all of it or none). When superseded
 * versions outnumber live records, the log is rewritten with one line per record (compaction),
 * atomically. The audit log never changes an entry, so its lines are the entries themselves.
 */

import { join } from "node:path";
import {
  type ApprovalQuery,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEntry,
  type AuditQuery,
  approvalMatcher,
  auditMatcher,
  ConflictError,
  checkLimit,
  type OrderQuery,
  type OrderRecord,
  orderMatcher,
  type Page,
  PRUNABLE_APPROVAL_STATUSES,
  PRUNABLE_ORDER_STATUSES,
  pageOf,
  type RecordPrune,
} from "@tradecron/core";
import { AppendLog } from "./append-log.js";
import { APPROVALS_FILE, AUDIT_FILE, ORDERS_FILE } from "./layout.js";
import { recoverLog } from "./log-recovery.js";
import type { Quarantine } from "./quarantine.js";
import { approvalProblem, auditProblem, deepFreeze, orderProblem, snapshot } from "./records.js";

/** What a collection needs from the store that owns it. */
export interface CollectionContext {
  quarantine: Quarantine;
  fail(error: unknown): Error;
  /** Commit on the main thread (see FileStorageOptions.inlineCommits). */
  inlineCommits: boolean;
}

/** Logs shorter than this are never compacted (rewriting them would save nothing). */
const COMPACT_MIN_LINES = 4096;

function putLineCheck(check: (v: unknown) => string | null) {
  return (v: unknown): string | null => {
    const line = v as { op?: unknown; rec?: unknown; recs?: unknown } | null;
    if (!line || typeof line !== "object" || line.op !== "put") return "not a put line";
    if (Array.isArray(line.recs)) {
      for (const r of line.recs) {
        const p = check(r);
        if (p) return p;
      }
      return null;
    }
    return check(line.rec);
  };
}

/** A keyed collection in memory, persisted as a change log. */
class KeyedLog<T> {
  readonly map = new Map<string, T>();

  private constructor(
    private readonly log: AppendLog,
    private readonly keyOf: (record: T) => string,
  ) {}

  static async open<T>(
    path: string,
    ctx: CollectionContext,
    check: (v: unknown) => string | null,
    keyOf: (record: T) => string,
    onLoad: (record: T, previous: T | undefined) => void,
  ): Promise<KeyedLog<T>> {
    const recovered = await recoverLog(path, ctx.quarantine, putLineCheck(check));
    const log = await AppendLog.open(path, {
      lines: recovered?.lines ?? 0,
      onFailure: (error) => ctx.fail(error),
      inline: ctx.inlineCommits,
    });
    const keyed = new KeyedLog<T>(log, keyOf);
    for (const value of recovered?.values ?? []) {
      const line = value as { rec?: T; recs?: T[] };
      for (const r of line.recs ?? [line.rec as T]) {
        const record = deepFreeze(r);
        const key = keyOf(record);
        onLoad(record, keyed.map.get(key));
        keyed.map.set(key, record);
      }
    }
    keyed.compactIfNeeded();
    return keyed;
  }

  /** Stores `records` (already frozen copies, with their JSON) as one line; resolves when durable. */
  put(items: Array<{ record: T; json: string }>): Promise<void> {
    const line =
      items.length === 1
        ? `{"op":"put","rec":${(items[0] as { json: string }).json}}`
        : `{"op":"put","recs":[${items.map((i) => i.json).join(",")}]}`;
    const seq = this.log.append(line);
    for (const { record } of items) this.map.set(this.keyOf(record), record);
    const durable = this.log.durable(seq);
    this.compactIfNeeded();
    return durable;
  }

  /**
   * Deletes the records of `keys` (retention): the log is rewritten with one line per remaining
   * record, atomically (the append log's temp file + fsync + rename), so a kill -9 leaves the old
   * log or the new one. Resolves when durable.
   */
  remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.map.delete(key);
    return this.log.requestRewrite(() => ({
      text: [...this.map.values()].map((r) => `{"op":"put","rec":${JSON.stringify(r)}}\n`).join(""),
      lines: this.map.size,
    }));
  }

  private compactIfNeeded(): void {
    if (this.log.lines < COMPACT_MIN_LINES || this.log.lines <= 2 * this.map.size) return;
    void this.log
      .requestRewrite(() => ({
        text: [...this.map.values()].map((r) => `{"op":"put","rec":${JSON.stringify(r)}}\n`).join(""),
        lines: this.map.size,
      }))
      .catch(() => {
        // the log reports the failure to the store (onFailure)
      });
  }

  /** Waits until everything written so far is durable (undefined when it already is). */
  settled(): Promise<void> | undefined {
    return this.log.idle ? undefined : this.log.drain();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

/** Approvals with their counts by status and the set of pending ones. */
export class ApprovalStore {
  private readonly counts = new Map<ApprovalStatus, number>();
  private readonly pending = new Set<string>();
  private log!: KeyedLog<ApprovalRecord>;

  private count(record: ApprovalRecord, delta: number): void {
    this.counts.set(record.status, (this.counts.get(record.status) ?? 0) + delta);
    if (delta > 0 && record.status === "pending") this.pending.add(record.id);
    if (delta < 0 && record.status === "pending") this.pending.delete(record.id);
  }

  /** Loads `approvals.jsonl` under `root`. */
  static async open(root: string, ctx: CollectionContext): Promise<ApprovalStore> {
    const store = new ApprovalStore();
    store.log = await KeyedLog.open<ApprovalRecord>(
      join(root, APPROVALS_FILE),
      ctx,
      approvalProblem,
      (a) => a.id,
      (record, previous) => {
        if (previous) store.count(previous, -1);
        store.count(record, 1);
      },
    );
    return store;
  }

  /** Inserts approvals all or nothing; ConflictError if an id exists. */
  async insert(approvals: ApprovalRecord[]): Promise<void> {
    const seen = new Set<string>();
    for (const a of approvals) {
      if (this.log.map.has(a.id) || seen.has(a.id)) {
        throw new ConflictError("CONFLICT", `approval '${a.id}' exists already`, { field: "id" });
      }
      seen.add(a.id);
    }
    if (approvals.length === 0) return;
    const items = approvals.map((a) => snapshot(a));
    for (const { record } of items) this.count(record, 1);
    await this.log.put(items);
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    await this.log.settled();
    return this.log.map.get(id) ?? null;
  }

  async list(query: ApprovalQuery): Promise<Page<ApprovalRecord>> {
    const limit = checkLimit(query.limit);
    const matches = [...this.log.map.values()].filter(approvalMatcher(query));
    const page = pageOf(
      matches,
      (a) => a.createdAt,
      (a) => a.id,
      limit,
      query.cursor,
    );
    await this.log.settled();
    return page;
  }

  async countByStatus(status: ApprovalStatus): Promise<number> {
    await this.log.settled();
    return this.counts.get(status) ?? 0;
  }

  /** Compare-and-set on the status. */
  async transition(
    id: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id">>,
  ): Promise<ApprovalRecord | null> {
    const current = this.log.map.get(id);
    if (!current || current.status !== from) {
      await this.log.settled();
      return null;
    }
    const item = snapshot({ ...current, ...patch, id });
    this.count(current, -1);
    this.count(item.record, 1);
    await this.log.put([item]);
    return item.record;
  }

  /** Deletes up to `limit` final approvals created before `before` and not in `referenced`. */
  async prune(prune: RecordPrune, referenced: ReadonlySet<string>): Promise<number> {
    const picked: ApprovalRecord[] = [];
    for (const a of this.log.map.values()) {
      if (picked.length >= prune.limit) break;
      if (!PRUNABLE_APPROVAL_STATUSES.includes(a.status) || a.createdAt >= prune.before) continue;
      if (!referenced.has(a.id)) picked.push(a);
    }
    if (picked.length === 0) {
      await this.log.settled();
      return 0;
    }
    for (const a of picked) this.count(a, -1);
    await this.log.remove(picked.map((a) => a.id));
    return picked.length;
  }

  /**
   * All-or-none compare-and-set of a group: checked and applied in memory without yielding (no
   * other call interleaves), written as one `recs` line, so a kill -9 keeps every member's new
   * state or none of it.
   */
  async transitionGroup(
    groupId: string,
    from: ApprovalStatus,
    patch: Partial<Omit<ApprovalRecord, "id" | "groupId">>,
  ): Promise<ApprovalRecord[] | null> {
    const members = [...this.log.map.values()].filter((a) => a.groupId === groupId);
    if (members.length === 0 || members.some((a) => a.status !== from)) {
      await this.log.settled();
      return null;
    }
    members.sort((a, b) => a.intentIndex - b.intentIndex);
    const items = members.map((current) => snapshot({ ...current, ...patch, id: current.id, groupId }));
    for (const [i, item] of items.entries()) {
      this.count(members[i] as ApprovalRecord, -1);
      this.count(item.record, 1);
    }
    await this.log.put(items);
    return items.map((i) => i.record);
  }

  async listExpired(now: number, limit: number): Promise<ApprovalRecord[]> {
    const out: ApprovalRecord[] = [];
    for (const id of this.pending) {
      const a = this.log.map.get(id);
      if (a && a.expiresAt <= now) out.push(a);
    }
    await this.log.settled();
    return out.sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1)).slice(0, limit);
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

/** Orders keyed by client order id. */
export class OrderStore {
  private log!: KeyedLog<OrderRecord>;

  /** Loads `orders.jsonl` under `root`. */
  static async open(root: string, ctx: CollectionContext): Promise<OrderStore> {
    const store = new OrderStore();
    store.log = await KeyedLog.open<OrderRecord>(
      join(root, ORDERS_FILE),
      ctx,
      orderProblem,
      (o) => o.clientOrderId,
      () => {},
    );
    return store;
  }

  async upsert(order: OrderRecord): Promise<void> {
    await this.log.put([snapshot(order)]);
  }

  /** Ids of approvals an order the broker may still change refers to (retention keeps them). */
  openApprovalIds(): Set<string> {
    const out = new Set<string>();
    for (const o of this.log.map.values()) {
      if (o.approvalId !== null && !PRUNABLE_ORDER_STATUSES.includes(o.status)) out.add(o.approvalId);
    }
    return out;
  }

  /** Deletes up to `limit` final orders last updated before `before`. */
  async prune(prune: RecordPrune): Promise<number> {
    const picked: string[] = [];
    for (const o of this.log.map.values()) {
      if (picked.length >= prune.limit) break;
      if (PRUNABLE_ORDER_STATUSES.includes(o.status) && o.updatedAt < prune.before)
        picked.push(o.clientOrderId);
    }
    if (picked.length === 0) {
      await this.log.settled();
      return 0;
    }
    await this.log.remove(picked);
    return picked.length;
  }

  async get(clientOrderId: string): Promise<OrderRecord | null> {
    await this.log.settled();
    return this.log.map.get(clientOrderId) ?? null;
  }

  async list(query: OrderQuery): Promise<Page<OrderRecord>> {
    const limit = checkLimit(query.limit);
    const matches = [...this.log.map.values()].filter(orderMatcher(query));
    const page = pageOf(
      matches,
      (o) => o.submittedAt,
      (o) => o.clientOrderId,
      limit,
      query.cursor,
    );
    await this.log.settled();
    return page;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

/** The append-only audit log. */
export class AuditStore {
  private readonly entries: AuditEntry[] = [];

  private constructor(private readonly log: AppendLog) {}

  /** Loads `audit.jsonl` under `root`. */
  static async open(root: string, ctx: CollectionContext): Promise<AuditStore> {
    const path = join(root, AUDIT_FILE);
    const recovered = await recoverLog(path, ctx.quarantine, auditProblem);
    const log = await AppendLog.open(path, {
      lines: recovered?.lines ?? 0,
      onFailure: (error) => ctx.fail(error),
      inline: ctx.inlineCommits,
    });
    const store = new AuditStore(log);
    for (const v of recovered?.values ?? []) store.entries.push(deepFreeze(v as AuditEntry));
    // Sequence numbers only grow; a hand-edited file out of order is put back in order.
    store.entries.sort((a, b) => a.seq - b.seq);
    return store;
  }

  async append(entry: Omit<AuditEntry, "seq">): Promise<AuditEntry> {
    const last = this.entries[this.entries.length - 1];
    const { json, record } = snapshot({ ...entry, seq: (last?.seq ?? 0) + 1 } as AuditEntry);
    this.entries.push(record);
    await this.log.durable(this.log.append(json));
    return record;
  }

  /**
   * Deletes up to `limit` entries older than `before`, oldest first, never the newest (its `seq` is
   * where the next one continues). The log is rewritten without them, atomically.
   */
  async prune(prune: RecordPrune): Promise<number> {
    let count = 0;
    const max = Math.min(prune.limit, this.entries.length - 1);
    while (count < max && (this.entries[count] as AuditEntry).at < prune.before) count++;
    if (count === 0) {
      if (!this.log.idle) await this.log.drain();
      return 0;
    }
    this.entries.splice(0, count);
    await this.log.requestRewrite(() => ({
      text: this.entries.map((e) => `${JSON.stringify(e)}\n`).join(""),
      lines: this.entries.length,
    }));
    return count;
  }

  async list(query: AuditQuery): Promise<Page<AuditEntry>> {
    const limit = checkLimit(query.limit);
    const matches = this.entries.filter(auditMatcher(query));
    // As in MemoryStorage: the sequence number is the sort key, and as zero-padded text the id.
    const page = pageOf(
      matches,
      (e) => e.seq,
      (e) => String(e.seq).padStart(16, "0"),
      limit,
      query.cursor,
    );
    if (!this.log.idle) await this.log.drain();
    return page;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
