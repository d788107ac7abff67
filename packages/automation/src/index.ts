export * from "./recipes/auto-invest.js";
