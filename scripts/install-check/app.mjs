// The consumer app with every package loaded through ESM `import` (see consumer-app.cjs).
import * as core from "@tradecron/core";
import * as testing from "@tradecron/core/testing";
import * as storageFs from "@tradecron/storage-fs";
import * as storageSql from "@tradecron/storage-sql";
import express from "express";
import consumer from "./consumer-app.cjs";

await consumer.runConsumerApp({ express, core, testing, storageFs, storageSql }, "esm");
process.exit(0);
