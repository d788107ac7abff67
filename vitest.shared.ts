import { fileURLToPath } from "node:url";

/**
 * Test-time aliases: adapters and examples import `@tradecron/core` (and the storages, for packages
 * that test on them) from source, so a change in core is tested everywhere without a rebuild.
 * (Published packages resolve to dist as usual.)
 */
export const sourceAliases = [
  {
    find: /^@tradecron\/core\/testing$/,
    replacement: fileURLToPath(new URL("./packages/core/src/testing/index.ts", import.meta.url)),
  },
  {
    find: /^@tradecron\/core$/,
    replacement: fileURLToPath(new URL("./packages/core/src/index.ts", import.meta.url)),
  },
  {
    // From source too, so its errors are instances of the same core classes as the test's.
    find: /^@tradecron\/storage-fs$/,
    replacement: fileURLToPath(new URL("./packages/storage-fs/src/index.ts", import.meta.url)),
  },
  {
    find: /^@tradecron\/http$/,
    replacement: fileURLToPath(new URL("./packages/http/src/index.ts", import.meta.url)),
  },
  {
    find: /^@tradecron\/storage-sql$/,
    replacement: fileURLToPath(new URL("./packages/storage-sql/src/index.ts", import.meta.url)),
  },
];
