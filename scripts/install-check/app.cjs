// The consumer app with every package loaded through CJS `require` (see consumer-app.cjs).
const { runConsumerApp } = require("./consumer-app.cjs");

const mods = {
  express: require("express"),
  core: require("@tradecron/core"),
  testing: require("@tradecron/core/testing"),
  storageFs: require("@tradecron/storage-fs"),
  storageSql: require("@tradecron/storage-sql"),
};
runConsumerApp(mods, "cjs").then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
