#!/usr/bin/env node
// The installed `nines` command: runs the compiled CLI (npm install builds it into dist/).
import { runCli } from "../dist/cli/main.js";

runCli(process.argv).then((code) => {
  if (code !== 0) process.exitCode = code;
});
