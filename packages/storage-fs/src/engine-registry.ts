/**
 * One engine per folder per process. The first FileStorage handle that opens a folder creates
 * its engine (takes the lock, loads the data); further handles on the same folder, compared by
 * real path so that two spellings of one folder never open it twice, share that engine. It closes,
 * and the lock is released, when the last handle lets go. A handle opening a folder whose engine
 * is closing waits for the close and then opens it afresh.
 */

import { mkdir, realpath } from "node:fs/promises";
import type { StorageChange } from "@tradecron/core";
import { type EngineOptions, StoreEngine } from "./engine.js";
import { ioError } from "./errors.js";

interface RegistryEntry {
  engine: Promise<StoreEngine>;
  refs: number;
  closing: Promise<void> | null;
}

/** Engines of this process by real folder path. */
const registry = new Map<string, RegistryEntry>();

/** A handle's share of an engine, until {@link releaseEngine}. */
export interface EngineShare {
  /** The folder's real path, which names the share in {@link releaseEngine}. */
  key: string;
  engine: StoreEngine;
  /** Stops the change notifications of this handle. */
  unlisten: () => void;
}

/**
 * Opens `dir` (created if missing) or joins this process's open engine for it; `listener` then
 * receives every change made through any handle on the folder. `options` apply only if the engine
 * is opened here: the first handle decides them.
 */
export async function shareEngine(
  dir: string,
  options: EngineOptions,
  listener: (change: StorageChange) => void,
): Promise<EngineShare> {
  let key: string;
  try {
    await mkdir(dir, { recursive: true });
    key = await realpath(dir);
  } catch (error) {
    throw ioError("open the store folder", dir, error);
  }
  for (;;) {
    const existing = registry.get(key);
    if (existing?.closing) {
      await existing.closing.catch(() => {});
      continue;
    }
    if (existing) {
      existing.refs++;
      const engine = await existing.engine.catch((error: unknown) => {
        existing.refs--;
        throw error;
      });
      return { key, engine, unlisten: engine.listen(listener) };
    }
    const entry: RegistryEntry = { engine: StoreEngine.open(key, options), refs: 1, closing: null };
    registry.set(key, entry);
    try {
      const engine = await entry.engine;
      return { key, engine, unlisten: engine.listen(listener) };
    } catch (error) {
      if (registry.get(key) === entry) registry.delete(key);
      throw error;
    }
  }
}

/** Gives up one share of the engine of `key`; the last one drains, closes and unlocks it. */
export async function releaseEngine(key: string): Promise<void> {
  const entry = registry.get(key);
  if (!entry) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entry.closing = entry.engine
    .then((engine) => engine.close())
    .finally(() => {
      if (registry.get(key) === entry) registry.delete(key);
    });
  await entry.closing;
}
