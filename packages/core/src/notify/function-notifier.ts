/**
 * FunctionNotifier: any async function as a notifier (post to Slack with your own client, push
 * into a queue, record in a test).
 */

import { z } from "zod";
import { toError } from "../errors.js";
import { parseInput } from "../validation.js";
import { type Notification, type Notifier, NotifierError, parseNotification } from "./notifier.js";

/** What a {@link FunctionNotifier} calls. */
export type NotifyFunction = (notification: Notification) => void | Promise<void>;

const fnSchema = z.custom<NotifyFunction>((v) => typeof v === "function", { message: "must be a function" });
const nameSchema = z.string().trim().min(1).max(100).default("function");

/** Calls a function with each notification; its failures become NotifierErrors. */
export class FunctionNotifier implements Notifier {
  readonly name: string;
  private readonly fn: NotifyFunction;

  /** @throws ValidationError naming `fn` or `name`. */
  constructor(fn: NotifyFunction, options: { name?: string } = {}) {
    this.fn = parseInput(fnSchema, fn, "FunctionNotifier", "fn");
    this.name = parseInput(nameSchema, options.name, "FunctionNotifier", "name");
  }

  async notify(notification: Notification): Promise<void> {
    const n = parseNotification(notification, `notifier ${this.name}`);
    try {
      await this.fn(n);
    } catch (error) {
      if (error instanceof NotifierError) throw error;
      throw new NotifierError(`notifier ${this.name}: ${toError(error).message}`, {
        cause: error,
        details: { notifier: this.name },
      });
    }
  }
}
