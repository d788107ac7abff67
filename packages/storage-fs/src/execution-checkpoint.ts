/**
 * Writing `checkpoint.json`, the commit point of every seal, merge and compaction (its content
 * and start-up's reading of it: execution-files.ts), and handing out the numbers of new log and
 * segment files, which the checkpoint records.
 */

import { type Checkpoint, writeCheckpoint } from "./execution-files.js";
import type { Tombstones } from "./execution-tombstones.js";

/** The checkpoint as last written, and the next file number. */
export class CheckpointWriter {
  /** The checkpoint as last written (or as start-up rebuilt it, before its first write). */
  current: Checkpoint;

  /**
   * @param nextNo the next file number (above every number on disk)
   * @param tombstones the dead-row marks written with every checkpoint
   */
  constructor(
    private readonly dir: string,
    checkpoint: Checkpoint,
    public nextNo: number,
    private readonly tombstones: Tombstones,
  ) {
    this.current = checkpoint;
  }

  /** Takes the next log or segment file number. */
  takeNo(): number {
    return this.nextNo++;
  }

  /** Writes the checkpoint, with the pruned rows of its segments as of now. */
  async write(checkpoint: Checkpoint): Promise<void> {
    const { dead: _old, ...rest } = checkpoint;
    const dead = this.tombstones.checkpointMarks(checkpoint.segments);
    const full: Checkpoint = dead ? { ...rest, dead } : rest;
    await writeCheckpoint(this.dir, full);
    this.current = full;
  }
}
